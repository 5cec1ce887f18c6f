//! [`PartyPromotionStore`]: ship-to and contact promotions over `party_promotions`, fenced
//! like a customer's (see the `promotions` module).
//!
//! An intent is one `INSERT … ON CONFLICT DO NOTHING` with its log line (one statement, one
//! commit): of racing intents, on any connections or hosts, the partial unique index over the
//! live states on (integration, account, kind, code) lets one in and the others write
//! nothing, log line included; they are answered with the live row. The foreign key to the
//! account answers an unknown one. A settle is one fenced `UPDATE` with its log line in one
//! statement; a take-over compares the whole current lease. A `promoted` row is the party's
//! binding.

pub(crate) mod rows;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use crm2sage_domain::ports::{
    FencedWriteError, LogEntry, PartyPromotionStore, RecordPartyIntentError, StoreError,
    TakeOverError,
};
use crm2sage_domain::{
    AccountId, Lease, LeaseHolder, PartyOutcome, PartyPromotion, PromotionId, Timestamp,
};

use crate::db::{as_params, db_err, is_fk_violation};
use crate::lease::Leased;
use crate::promotions::rows::{LOG_COLUMNS, log_values};
use crate::{PostgresStore, execute};

/// The table's words for the shared fenced writes.
const LEASED: Leased = Leased {
    table: "party_promotions",
    noun: "a party promotion",
    taking_over: "taking over a party promotion's lease",
};

/// How many times an intent that lost to a live promotion looks for it before giving up (it
/// may settle between the insert and the look).
const INTENT_TRIES: usize = 3;

/// The live promotion of `p`'s party in `p`'s integration, if any.
async fn live_of<C: GenericClient>(
    client: &C,
    p: &PartyPromotion,
) -> Result<Option<PartyPromotion>, StoreError> {
    Ok(rows::select(
        client,
        "integration_id = $1 AND account_id = $2 AND kind = $3 AND code = $4 \
         AND state IN ('creating', 'promoted')",
        &[
            &p.integration.to_string(),
            &p.account.to_string(),
            &p.party.kind().as_str(),
            &p.party.as_str(),
        ],
    )
    .await?
    .pop())
}

async fn exists<C: GenericClient>(
    client: &C,
    sql: &str,
    id: String,
    context: &str,
) -> Result<bool, StoreError> {
    client
        .query_one(sql, &[&id])
        .await
        .and_then(|r| r.try_get::<_, bool>(0))
        .map_err(db_err(context))
}

/// Explains an intent the foreign keys refused: an unknown account, else the driver's error.
async fn refused_intent<C: GenericClient>(
    client: &C,
    p: &PartyPromotion,
    e: tokio_postgres::Error,
    context: &str,
) -> RecordPartyIntentError {
    let known = exists(
        client,
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)",
        p.account.to_string(),
        "looking up an account",
    )
    .await;
    match known {
        Ok(false) => RecordPartyIntentError::AccountNotFound(p.account),
        Ok(true) => db_err(context)(e).into(),
        Err(store) => store.into(),
    }
}

#[async_trait]
impl PartyPromotionStore for PostgresStore {
    async fn record_party_intent(
        &self,
        promotion: &PartyPromotion,
        log: &LogEntry,
    ) -> Result<(), RecordPartyIntentError> {
        let p = promotion;
        let mut values = rows::values(p);
        values.extend(log_values(log)?);
        let params = as_params(&values);
        let sql = format!(
            "WITH intent AS (INSERT INTO party_promotions ({}) VALUES ({}) \
             ON CONFLICT DO NOTHING RETURNING 1) \
             INSERT INTO promotion_log ({LOG_COLUMNS}) \
             SELECT $18, $19, $20, $21, $22, $23, $24, $25 FROM intent",
            rows::COLUMNS,
            rows::PLACEHOLDERS,
        );
        let context = format!("recording party promotion {}", p.id);
        let client = self.client().await?;
        for _ in 0..INTENT_TRIES {
            let inserted = match execute(&client, &sql, &params).await {
                Ok(n) => n,
                Err(e) if is_fk_violation(&e) => {
                    return Err(refused_intent(&client, p, e, &context).await);
                }
                Err(e) => return Err(db_err(&context)(e).into()),
            };
            if inserted == 1 {
                return Ok(());
            }
            // The partial unique index decided (once the winner committed); nothing was
            // written. A fresh statement sees the winner.
            if let Some(live) = live_of(&client, p).await? {
                return Err(RecordPartyIntentError::Live(Box::new(live)));
            }
            if !rows::select(&client, "id = $1", &[&p.id.to_string()])
                .await?
                .is_empty()
            {
                return Err(StoreError::Internal(format!(
                    "party promotion {} is already recorded",
                    p.id
                ))
                .into());
            }
        }
        Err(StoreError::Busy(format!(
            "recording party promotion {}: the live promotion it lost to kept settling",
            p.id
        ))
        .into())
    }

    async fn settle_party(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        outcome: &PartyOutcome,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<(), FencedWriteError> {
        self.settle_held(
            &LEASED,
            id,
            holder,
            outcome.state().as_str(),
            outcome.error(),
            now,
            Some(log),
        )
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
        let client = self.client().await?;
        Ok(rows::select(&client, "id = $1", &[&id.to_string()])
            .await?
            .pop())
    }

    async fn party_in_flight(&self) -> Result<Vec<PartyPromotion>, StoreError> {
        let client = self.client().await?;
        rows::select(&client, "state = 'creating'", &[]).await
    }

    async fn party_promotions_of(
        &self,
        account: AccountId,
    ) -> Result<Vec<PartyPromotion>, StoreError> {
        let client = self.client().await?;
        rows::select(&client, "account_id = $1", &[&account.to_string()]).await
    }
}
