//! `match`: for every account without a binding in the integration, the ERP customers of the
//! customer index that may be it, scored, with the reasons — and, with `apply`, a link for
//! each account that has exactly one candidate at or above the threshold and no rival.
//!
//! Streams: the accounts are read a chunk at a time (one read of their bindings, one of the
//! index, one of the candidates' bindings per chunk) and each row goes to the caller as it is
//! decided, so memory holds one chunk whatever the number of accounts.
//!
//! A rival is a second candidate of the account at or above the threshold, or another account
//! of the same chunk whose only candidate is the same customer: neither is linked. Candidates
//! already bound to an account are not proposed.

use std::collections::{HashMap, HashSet};

use crate::error_class::{ErrorClass, ErrorCode};
use crate::ids::AccountId;
use crate::integration::{Integration, IntegrationName};
use crate::ports::{AccountFilter, ErpConnector, Store, StoreError};

use super::duplicates::{CANDIDATES_PER_ACCOUNT, DuplicateCandidate, account_keys, best_first};
use super::links::{LinkAccountError, Linked};
use super::{ResolveError, Services};

/// Accounts read per chunk.
pub const MATCH_CHUNK: usize = 500;

/// Why a match could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// The integration could not be chosen.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// No customer sync has finished for the integration.
    #[error("integration {0} has no customer index yet; sync its customers first")]
    NotIndexed(IntegrationName),
    /// The threshold is not a number from 0 to 1.
    #[error("min_score: must be a number from 0 to 1, got {0}")]
    InvalidScore(f64),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ErrorCode for MatchError {
    fn code(&self) -> &'static str {
        match self {
            Self::Resolve(e) => e.code(),
            Self::NotIndexed(_) => "missing_prerequisites",
            Self::InvalidScore(_) => "invalid_input",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::Resolve(e) => e.class(),
            Self::NotIndexed(_) | Self::InvalidScore(_) => ErrorClass::Invalid,
            Self::Store(e) => e.class(),
        }
    }
}

/// What `apply` did with an account.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MatchApplied {
    /// Linked to its one candidate.
    Linked(Box<Linked>),
    /// Not linked: more than one candidate at or above the threshold, or a rival account.
    Ambiguous,
    /// The link was refused or failed.
    Failed(Box<LinkAccountError>),
}

/// One unbound account and the customers that may be it, best first.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MatchRow {
    /// The account.
    pub account: AccountId,
    /// Its name.
    pub account_name: String,
    /// Candidates at or above the threshold, best first.
    pub candidates: Vec<DuplicateCandidate>,
    /// What `apply` did (`None` without `apply`, or with no candidate).
    pub applied: Option<MatchApplied>,
}

/// What a match did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MatchSummary {
    /// Unbound accounts examined.
    pub accounts: u64,
    /// Of them, with at least one candidate.
    pub with_candidates: u64,
    /// Linked by `apply`.
    pub linked: u64,
    /// Left alone by `apply`: ambiguous.
    pub ambiguous: u64,
    /// `apply` links refused or failed.
    pub failed: u64,
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Proposes candidates for every account unbound in `integration` (the default when
    /// `None`), calling `on_row` for each in account order (see the module docs); with
    /// `apply`, links the unambiguous ones through [`Services::link`] (a live read each).
    ///
    /// Dropping the future stops it between reads or during a link (which stands or not, as
    /// a dropped [`Services::link`]); rows already reported stay as reported.
    ///
    /// # Errors
    /// [`MatchError`]; a refused link is a row's [`MatchApplied::Failed`], not an error.
    pub async fn match_accounts(
        &self,
        integration: Option<&str>,
        min_score: f64,
        apply: bool,
        on_row: &mut (dyn FnMut(&MatchRow) + Send),
    ) -> Result<(Integration, MatchSummary), MatchError> {
        if !(0.0..=1.0).contains(&min_score) {
            return Err(MatchError::InvalidScore(min_score));
        }
        let integration = self.resolve_integration(integration).await?;
        let id = integration.id();
        if self.store.customer_index_state(id).await?.is_none() {
            return Err(MatchError::NotIndexed(integration.name().clone()));
        }
        let name = integration.name().as_str().to_owned();
        let mut summary = MatchSummary::default();
        let mut after = None;
        loop {
            let accounts = self
                .store
                .accounts_page(AccountFilter::All, after, MATCH_CHUNK)
                .await?;
            let Some(last) = accounts.last() else { break };
            after = Some(last.id());
            let ids: Vec<AccountId> = accounts.iter().map(|a| a.id()).collect();
            let bound: HashSet<AccountId> = self
                .store
                .bindings_of_accounts(id, &ids)
                .await?
                .into_iter()
                .map(|b| b.account)
                .collect();
            let unbound: Vec<_> = accounts
                .into_iter()
                .filter(|a| !bound.contains(&a.id()))
                .collect();
            let keys: Vec<_> = unbound.iter().map(account_keys).collect();
            let lists = self
                .store
                .customer_candidates(id, &keys, CANDIDATES_PER_ACCOUNT)
                .await?;
            let uids: Vec<_> = lists
                .iter()
                .flatten()
                .map(|c| c.key.external_uid())
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let taken: HashSet<_> = self
                .store
                .bindings_of_customers(id, &uids)
                .await?
                .into_iter()
                .map(|b| b.external_uid)
                .collect();
            let mut rows: Vec<MatchRow> = unbound
                .iter()
                .zip(keys.iter().zip(lists.iter()))
                .map(|(account, (keys, list))| {
                    let postal = account.details().billing().postal_code();
                    let mut candidates: Vec<DuplicateCandidate> = list
                        .iter()
                        .filter(|c| !taken.contains(&c.key.external_uid()))
                        .filter_map(|c| DuplicateCandidate::of(keys, postal, c))
                        .filter(|c| c.score + 1e-9 >= min_score)
                        .collect();
                    best_first(&mut candidates);
                    MatchRow {
                        account: account.id(),
                        account_name: account.details().name().as_str().to_owned(),
                        candidates,
                        applied: None,
                    }
                })
                .collect();
            // Rival accounts: the same sole candidate for two accounts of the chunk.
            let mut sole: HashMap<String, usize> = HashMap::new();
            for row in rows.iter().filter(|r| r.candidates.len() == 1) {
                *sole
                    .entry(row.candidates[0].external_uid.as_str().to_owned())
                    .or_default() += 1;
            }
            for row in &mut rows {
                summary.accounts += 1;
                if row.candidates.is_empty() {
                    on_row(row);
                    continue;
                }
                summary.with_candidates += 1;
                if apply {
                    let one = match row.candidates.as_slice() {
                        [only] if sole.get(only.external_uid.as_str()) == Some(&1) => Some(only),
                        _ => None,
                    };
                    row.applied = Some(match one {
                        None => {
                            summary.ambiguous += 1;
                            MatchApplied::Ambiguous
                        }
                        Some(c) => {
                            let number = c.external_uid.as_str().to_owned();
                            match self.link(row.account, &number, Some(&name)).await {
                                Ok(linked) => {
                                    summary.linked += 1;
                                    MatchApplied::Linked(Box::new(linked))
                                }
                                Err(e) => {
                                    summary.failed += 1;
                                    MatchApplied::Failed(Box::new(e))
                                }
                            }
                        }
                    });
                }
                on_row(row);
            }
        }
        Ok((integration, summary))
    }
}
