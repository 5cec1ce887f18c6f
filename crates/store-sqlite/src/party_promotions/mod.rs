//! [`PartyPromotionStore`]: ship-to and contact promotions over `party_promotions`, fenced
//! like a customer's (see the `promotions` module).
//!
//! The exactly-once rule is the partial unique index over the live states on (integration,
//! account, kind, code): an intent that loses to it writes nothing, log entry included, and
//! is answered with the live row. Every change to an in-flight row is a fenced
//! `UPDATE … WHERE id AND state = 'creating' AND lease = the caller's`; a take-over compares
//! the whole current lease. A `promoted` row is the party's binding.

pub(crate) mod rows;

use async_trait::async_trait;
use rusqlite::{Connection, params};

use crm2sage_domain::ports::{
    FencedWriteError, LogEntry, PartyPromotionStore, RecordPartyIntentError, StoreError,
    TakeOverError,
};
use crm2sage_domain::{
    AccountId, Lease, LeaseHolder, PartyOutcome, PartyPromotion, PromotionId, Timestamp,
};

use crate::SqliteStore;
use crate::db::{db_err, is_unique_violation, write_tx};
use crate::lease::{self, Leased};
use crate::promotions::rows::insert_log;

/// The table's words for the shared fenced writes.
const LEASED: Leased = Leased {
    table: "party_promotions",
    noun: "a party promotion",
    taking_over: "taking over a party promotion's lease",
};

/// The live promotion of `p`'s party in `p`'s integration, if any.
fn live_of(conn: &Connection, p: &PartyPromotion) -> Result<Option<PartyPromotion>, StoreError> {
    Ok(rows::select(
        conn,
        "integration_id = ?1 AND account_id = ?2 AND kind = ?3 AND code = ?4 \
         AND state IN ('creating', 'promoted')",
        params![
            p.integration.to_string(),
            p.account.to_string(),
            p.party.kind().as_str(),
            p.party.as_str()
        ],
    )?
    .pop())
}

/// The intent and its log entry, in one savepoint. The writer thread's transaction holds the
/// write lock, so the account check cannot be overtaken; the index decides the race all the
/// same.
fn record_intent(
    conn: &mut Connection,
    p: &PartyPromotion,
    log: &LogEntry,
) -> Result<(), RecordPartyIntentError> {
    let tx = write_tx(conn)?;
    if !crate::accounts::exists(&tx, p.account)? {
        return Err(RecordPartyIntentError::AccountNotFound(p.account));
    }
    let context = format!("recording party promotion {}", p.id);
    match rows::insert(&tx, p) {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            if let Some(live) = live_of(&tx, p)? {
                return Err(RecordPartyIntentError::Live(Box::new(live)));
            }
            return Err(db_err(&context)(e).into());
        }
        Err(e) => return Err(db_err(&context)(e).into()),
    }
    insert_log(&tx, log)?;
    tx.commit().map_err(db_err(&context))?;
    Ok(())
}

#[async_trait]
impl PartyPromotionStore for SqliteStore {
    async fn record_party_intent(
        &self,
        promotion: &PartyPromotion,
        log: &LogEntry,
    ) -> Result<(), RecordPartyIntentError> {
        let (p, log) = (promotion.clone(), log.clone());
        self.write(move |conn| record_intent(conn, &p, &log)).await
    }

    async fn settle_party(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        outcome: &PartyOutcome,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<(), FencedWriteError> {
        let (holder, log) = (holder.clone(), log.clone());
        let (state, error) = (outcome.state(), outcome.error().map(str::to_owned));
        self.write(move |conn| {
            lease::settle(
                conn,
                &LEASED,
                id,
                &holder,
                state.as_str(),
                error.as_deref(),
                now,
                Some(&log),
            )
        })
        .await
    }

    async fn release_party_lease(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        self.release_held_lease(&LEASED, id, holder, now).await
    }

    async fn take_over_party(
        &self,
        id: PromotionId,
        expected: Option<&Lease>,
        new: &Lease,
    ) -> Result<(), TakeOverError> {
        self.take_over_lease(&LEASED, id, expected, new).await
    }

    async fn party_promotion(&self, id: PromotionId) -> Result<Option<PartyPromotion>, StoreError> {
        self.read_point(move |conn| Ok(rows::select(conn, "id = ?1", [id.to_string()])?.pop()))
            .await
    }

    async fn party_in_flight(&self) -> Result<Vec<PartyPromotion>, StoreError> {
        self.read(|conn| rows::select(conn, "state = 'creating'", []))
            .await
    }

    async fn party_promotions_of(
        &self,
        account: AccountId,
    ) -> Result<Vec<PartyPromotion>, StoreError> {
        self.read_point(move |conn| rows::select(conn, "account_id = ?1", [account.to_string()]))
            .await
    }
}

#[cfg(test)]
mod tests;
