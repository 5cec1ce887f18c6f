//! Importing accounts in bulk: rows taken lazily and stored in chunks, each row an upsert by its
//! CRM reference (the rule of [`Services::upsert_account`]), each outcome reported as its chunk
//! is stored. Memory holds one chunk, whatever the number of rows.

use std::collections::HashMap;

use crate::account::{Account, AccountDetails, AccountRef, NewAccount};
use crate::field::InvalidFields;
use crate::ids::AccountId;
use crate::ports::{ErpConnector, Store};

use super::Services;
use super::accounts::{AccountError, Upserted, upserted};

/// Rows per chunk of [`Services::import_accounts`]: read, validated and stored together, in one
/// store transaction.
pub const IMPORT_CHUNK: usize = 1000;

/// One row of an import: the caller's `tag` for it (a line number, say), handed back with its
/// outcome, and its input — or the fields the caller already refused (a row it could not read
/// whole), which is reported as [`ImportOutcome::Rejected`] in its place.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ImportRow<T> {
    /// The caller's tag.
    pub tag: T,
    /// The account to store, or why the row was refused before it reached the import.
    pub input: Result<NewAccount, InvalidFields>,
}

impl<T> ImportRow<T> {
    /// A row with `input`.
    pub fn new(tag: T, input: NewAccount) -> Self {
        Self {
            tag,
            input: Ok(input),
        }
    }

    /// A row the caller refused with `fields`.
    pub fn refused(tag: T, fields: InvalidFields) -> Self {
        Self {
            tag,
            input: Err(fields),
        }
    }
}

/// What an import did with one row.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
// Most rows are stored: boxing the account would cost an allocation a row.
#[allow(clippy::large_enum_variant)]
pub enum ImportOutcome {
    /// Stored: a new account ([`Upserted::Created`]), or the account that has the row's CRM
    /// reference, its details replaced ([`Upserted::Updated`]) or already equal
    /// ([`Upserted::Unchanged`]). The account as it is after the row.
    Stored(Account, Upserted),
    /// Not stored: every field the row broke.
    Rejected(InvalidFields),
}

/// The counts of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportSummary {
    /// New accounts.
    pub created: u64,
    /// Accounts whose details were replaced.
    pub updated: u64,
    /// Rows equal to their stored account.
    pub unchanged: u64,
    /// Rows refused.
    pub rejected: u64,
}

impl ImportSummary {
    /// Rows stored: created, updated or unchanged.
    pub fn stored(&self) -> u64 {
        self.created + self.updated + self.unchanged
    }

    /// Counts one row's outcome (for a caller keeping its own tally as rows are reported).
    pub fn count(&mut self, outcome: &ImportOutcome) {
        match outcome {
            ImportOutcome::Stored(_, Upserted::Created) => self.created += 1,
            ImportOutcome::Stored(_, Upserted::Updated) => self.updated += 1,
            ImportOutcome::Stored(_, Upserted::Unchanged) => self.unchanged += 1,
            ImportOutcome::Rejected(_) => self.rejected += 1,
        }
    }
}

/// A validated row of a chunk, before it is stored.
enum Planned {
    Rejected(InvalidFields),
    /// No CRM reference: always a new account.
    New(AccountDetails),
    /// Keyed by the chunk's reference number `slot`.
    Keyed(AccountDetails, usize),
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Imports `rows` in file order, each as [`Services::upsert_account`] would store it: a row
    /// whose CRM reference no account has creates one, a row whose reference exists updates
    /// that account (or leaves it [`Upserted::Unchanged`] when its details are the same), a
    /// row without a reference creates an account, an invalid row is rejected with every bad
    /// field. So importing the same rows again is safe: nothing is duplicated. A reference
    /// repeated among the rows is applied again in order (the later row updates the account).
    ///
    /// Rows are taken lazily, [`IMPORT_CHUNK`] at a time: each chunk is validated, its
    /// references looked up in one read and its accounts written in one store write
    /// ([`AccountStore::write_accounts`](crate::ports::AccountStore::write_accounts)); then
    /// `on_row` gets each row's tag and outcome, in order. Memory holds one chunk. A chunk
    /// whose write fails (another writer took one of its references meanwhile) is stored row
    /// by row instead, through [`Services::upsert_account`], which settles such races.
    ///
    /// # Dropping the future
    /// The chunks whose rows were reported are stored; the chunk being written is stored whole
    /// or not at all when the store writes it in one transaction (the SQLite store does);
    /// the rest is not read. Importing the same rows again completes it.
    ///
    /// # Errors
    /// [`AccountError::Store`] when the store fails; the chunks reported before it are stored.
    pub async fn import_accounts<T, I, F>(
        &self,
        rows: I,
        mut on_row: F,
    ) -> Result<ImportSummary, AccountError>
    where
        I: IntoIterator<Item = ImportRow<T>>,
        F: FnMut(T, ImportOutcome),
    {
        let mut summary = ImportSummary::default();
        let mut rows = rows.into_iter();
        let mut chunk: Vec<ImportRow<T>> = Vec::with_capacity(IMPORT_CHUNK);
        loop {
            chunk.extend(rows.by_ref().take(IMPORT_CHUNK));
            if chunk.is_empty() {
                return Ok(summary);
            }
            let last = chunk.len() < IMPORT_CHUNK;
            let outcomes = self.import_chunk(&chunk).await?;
            for (row, outcome) in chunk.drain(..).zip(outcomes) {
                summary.count(&outcome);
                on_row(row.tag, outcome);
            }
            if last {
                return Ok(summary);
            }
        }
    }

    /// One chunk: the outcome of each row, in order, once it is stored.
    async fn import_chunk<T>(
        &self,
        chunk: &[ImportRow<T>],
    ) -> Result<Vec<ImportOutcome>, AccountError> {
        let now = self.clock.now();
        let mut slots: HashMap<AccountRef, usize> = HashMap::new();
        let mut references: Vec<AccountRef> = Vec::new();
        let planned: Vec<Planned> = chunk
            .iter()
            .map(|row| {
                let details = match &row.input {
                    Ok(input) => match input.validate() {
                        Ok(details) => details,
                        Err(fields) => return Planned::Rejected(fields),
                    },
                    Err(fields) => return Planned::Rejected(fields.clone()),
                };
                match details.reference() {
                    None => Planned::New(details),
                    Some(reference) => {
                        let slot = *slots.entry(reference.clone()).or_insert_with(|| {
                            references.push(reference.clone());
                            references.len() - 1
                        });
                        Planned::Keyed(details, slot)
                    }
                }
            })
            .collect();
        let stored = self.store.accounts_by_references(&references).await?;
        if stored.len() != references.len() {
            return Err(AccountError::Store(crate::ports::StoreError::Internal(
                format!(
                    "the store answered {} accounts for {} references",
                    stored.len(),
                    references.len()
                ),
            )));
        }
        // Each reference's account as the rows so far leave it.
        let mut current: Vec<Option<Account>> = stored.clone();
        let mut new: Vec<Account> = Vec::new();
        let mut outcomes = Vec::with_capacity(chunk.len());
        for plan in planned {
            let outcome = match plan {
                Planned::Rejected(fields) => ImportOutcome::Rejected(fields),
                Planned::New(details) => {
                    let account = Account::new(AccountId::generate(), details, now);
                    new.push(account.clone());
                    ImportOutcome::Stored(account, Upserted::Created)
                }
                Planned::Keyed(details, slot) => match &current[slot] {
                    None => {
                        let account = Account::new(AccountId::generate(), details, now);
                        current[slot] = Some(account.clone());
                        ImportOutcome::Stored(account, Upserted::Created)
                    }
                    Some(account) => match upserted(account, details, now) {
                        None => ImportOutcome::Stored(account.clone(), Upserted::Unchanged),
                        Some(changed) => {
                            current[slot] = Some(changed.clone());
                            ImportOutcome::Stored(changed, Upserted::Updated)
                        }
                    },
                },
            };
            outcomes.push(outcome);
        }
        // What to write: new references are inserted, changed ones updated (their last state).
        let mut changed: Vec<Account> = Vec::new();
        for (before, after) in stored.iter().zip(current) {
            match (before, after) {
                (None, Some(account)) => new.push(account),
                (Some(before), Some(after)) if *before != after => changed.push(after),
                _ => {}
            }
        }
        match self.store.write_accounts(&new, &changed).await {
            Ok(()) => Ok(outcomes),
            // A reference taken meanwhile, an account gone (or a store failing, which fails
            // again on the first row): row by row, as upserts settle such races.
            Err(_) => self.import_row_by_row(chunk).await,
        }
    }

    /// A chunk stored row by row: each row through [`Services::upsert_account`] (or
    /// [`Services::create_account`] without a reference).
    async fn import_row_by_row<T>(
        &self,
        chunk: &[ImportRow<T>],
    ) -> Result<Vec<ImportOutcome>, AccountError> {
        let mut outcomes = Vec::with_capacity(chunk.len());
        for row in chunk {
            let input = match &row.input {
                Ok(input) => input,
                Err(fields) => {
                    outcomes.push(ImportOutcome::Rejected(fields.clone()));
                    continue;
                }
            };
            let reference = input
                .reference
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty());
            let stored = match reference {
                Some(reference) => self.upsert_account(reference, input).await,
                None => self
                    .create_account(input)
                    .await
                    .map(|a| (a, Upserted::Created)),
            };
            outcomes.push(match stored {
                Ok((account, how)) => ImportOutcome::Stored(account, how),
                Err(AccountError::Invalid(fields)) => ImportOutcome::Rejected(fields),
                Err(e) => return Err(e),
            });
        }
        Ok(outcomes)
    }
}
