//! [`PromotionStore`]: promotions with their leases, bindings and the promotion log.
//!
//! The exactly-once rule lives in two partial unique indexes (see the schema): an intent is
//! `INSERT … ON CONFLICT DO NOTHING`, so of racing intents the index lets one in and the
//! others insert nothing. Every change to an in-flight promotion is a *fenced*
//! `UPDATE … WHERE state = 'creating' AND lease = the caller's`, and a take-over compares the
//! whole current lease in its `WHERE`: one statement decides, never a read then a write.

pub(crate) mod rows;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crm2sage_domain::ports::{
    FencedWriteError, LogEntry, LogPosition, PromotionStore, RecordIntentError, StoreError,
    TakeOverError,
};
use crm2sage_domain::{
    AccountId, ArDivision, Binding, CustomerNo, ErpKind, ErpRequest, ExternalUid, IntegrationId,
    IntegrationKey, Lease, LeaseHolder, Promotion, PromotionId, PromotionState, ReferenceCode,
    Sage100Request, Sage300Request, SalespersonRef, Timestamp,
};

use crate::db::{Value, as_params, col, corrupt, db_err, known, parse_ts, parsed, parsed_opt, ts};
use crate::lease::{self, Leased, fence, no_lease};
use crate::{PostgresStore, execute, query, query_map};

const TABLE: &str = "promotions";

const COLUMNS: &str = "id, account_id, integration_id, erp_kind, customer_no, category, \
     tax_group, terms, division, salesperson, ship_method, tax_schedule, external_uid, state, \
     lease_host, lease_pid, lease_process_start, lease_task, lease_expires_at, error, \
     created_at, updated_at";

/// The table's words for the shared fenced writes.
const LEASED: Leased = Leased {
    table: TABLE,
    noun: "a promotion",
    taking_over: "taking over a lease",
};

fn code(row: &Row, name: &str) -> Result<Option<ReferenceCode>, StoreError> {
    parsed_opt(row, TABLE, name, ReferenceCode::parse)
}

fn required_code(row: &Row, name: &str) -> Result<ReferenceCode, StoreError> {
    code(row, name)?.ok_or_else(|| corrupt(TABLE, name, "missing"))
}

fn request_from_row(row: &Row) -> Result<ErpRequest, StoreError> {
    let kind: ErpKind = parsed(row, TABLE, "erp_kind", str::parse)?;
    let customer_no = parsed(row, TABLE, "customer_no", |raw| {
        CustomerNo::parse(kind, raw)
    })?;
    Ok(match kind {
        ErpKind::Sage300 => ErpRequest::Sage300(Sage300Request {
            customer_no,
            category: required_code(row, "category")?,
            tax_group: required_code(row, "tax_group")?,
            terms: code(row, "terms")?,
        }),
        ErpKind::Sage100 => ErpRequest::Sage100(Sage100Request {
            customer_no,
            division: parsed(row, TABLE, "division", ArDivision::parse)?,
            salesperson: parsed(row, TABLE, "salesperson", SalespersonRef::parse)?,
            tax_schedule: required_code(row, "tax_schedule")?,
            terms: code(row, "terms")?,
            ship_method: code(row, "ship_method")?,
            category: code(row, "category")?,
        }),
    })
}

fn from_row(row: &Row) -> Result<Promotion, StoreError> {
    Ok(Promotion {
        id: parsed(row, TABLE, "id", PromotionId::parse)?,
        account: parsed(row, TABLE, "account_id", AccountId::parse)?,
        integration: parsed(row, TABLE, "integration_id", IntegrationId::parse)?,
        request: request_from_row(row)?,
        external_uid: parsed(row, TABLE, "external_uid", ExternalUid::parse)?,
        state: parsed(
            row,
            TABLE,
            "state",
            known("promotion state", PromotionState::parse),
        )?,
        lease: lease::from_row(row, TABLE)?,
        error: col(row, TABLE, "error")?,
        created_at: parsed(row, TABLE, "created_at", parse_ts)?,
        updated_at: parsed(row, TABLE, "updated_at", parse_ts)?,
    })
}

/// The promotions matching `filter`, oldest first.
pub(crate) async fn select<C: GenericClient>(
    client: &C,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Promotion>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM promotions WHERE {filter} ORDER BY seq");
    query_map(client, &sql, params, "reading promotions", from_row).await
}

/// The parameters of an intent's row, in [`COLUMNS`]' order.
pub(crate) fn intent_values(p: &Promotion) -> Vec<Value> {
    let s = |c: Option<&ReferenceCode>| c.map(|c| c.as_str().to_owned());
    let (category, tax_group, terms, division, salesperson, ship_method, tax_schedule) =
        match &p.request {
            ErpRequest::Sage300(r) => (
                Some(r.category.as_str().to_owned()),
                Some(r.tax_group.as_str().to_owned()),
                s(r.terms.as_ref()),
                None,
                None,
                None,
                None,
            ),
            ErpRequest::Sage100(r) => (
                s(r.category.as_ref()),
                None,
                s(r.terms.as_ref()),
                Some(r.division.as_str().to_owned()),
                Some(r.salesperson.to_string()),
                s(r.ship_method.as_ref()),
                Some(r.tax_schedule.as_str().to_owned()),
            ),
        };
    let (lease_host, lease_pid, lease_start, lease_task, lease_expires) =
        lease::values(p.lease.as_ref());
    vec![
        Box::new(p.id.to_string()),
        Box::new(p.account.to_string()),
        Box::new(p.integration.to_string()),
        Box::new(p.request.kind().as_str().to_owned()),
        Box::new(p.request.customer_no().as_str().to_owned()),
        Box::new(category),
        Box::new(tax_group),
        Box::new(terms),
        Box::new(division),
        Box::new(salesperson),
        Box::new(ship_method),
        Box::new(tax_schedule),
        Box::new(p.external_uid.as_str().to_owned()),
        Box::new(p.state.as_str().to_owned()),
        Box::new(lease_host),
        Box::new(lease_pid),
        Box::new(lease_start),
        Box::new(lease_task),
        Box::new(lease_expires),
        Box::new(p.error.clone()),
        Box::new(ts(p.created_at)),
        Box::new(ts(p.updated_at)),
    ]
}

/// How many times an intent that lost to a live promotion looks for it before giving up
/// (it may settle between the insert and the look).
const INTENT_TRIES: usize = 3;

/// The live promotion of the integration with `account` or `uid`, as an intent's refusal.
async fn live_conflict<C: GenericClient>(
    client: &C,
    p: &Promotion,
) -> Result<Option<RecordIntentError>, StoreError> {
    let live = "integration_id = $1 AND state IN ('creating', 'promoted')";
    if let Some(existing) = select(
        client,
        &format!("{live} AND account_id = $2"),
        &[&p.integration.to_string(), &p.account.to_string()],
    )
    .await?
    .pop()
    {
        return Ok(Some(RecordIntentError::AccountLive(Box::new(existing))));
    }
    if let Some(existing) = select(
        client,
        &format!("{live} AND external_uid = $2"),
        &[&p.integration.to_string(), &p.external_uid.as_str()],
    )
    .await?
    .pop()
    {
        return Ok(Some(RecordIntentError::UidLive(Box::new(existing))));
    }
    Ok(None)
}

/// How an in-flight promotion ends without a binding.
#[derive(Clone, Copy)]
enum Settled {
    /// The ERP certainly did not create the customer.
    Failed,
    /// Nobody knows whether it did; an operator decides.
    NeedsReview,
}

impl Settled {
    fn state(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::NeedsReview => "needs_review",
        }
    }
}

impl PostgresStore {
    async fn settle(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        settled: Settled,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        self.settle_held(
            &LEASED,
            id,
            holder,
            settled.state(),
            Some(reason),
            now,
            None,
        )
        .await
    }
}

#[async_trait]
impl PromotionStore for PostgresStore {
    async fn record_intent(
        &self,
        promotion: &Promotion,
        log: &LogEntry,
    ) -> Result<(), RecordIntentError> {
        let p = promotion;
        let mut values = intent_values(p);
        values.extend(rows::log_values(log)?);
        let params = as_params(&values);
        // One statement for the intent, and its log line only when the intent went in; one
        // durable commit.
        let sql = format!(
            "WITH intent AS (INSERT INTO promotions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, \
             $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) \
             ON CONFLICT DO NOTHING RETURNING 1) \
             INSERT INTO promotion_log ({}) SELECT $23, $24, $25, $26, $27, $28, $29, $30 \
             FROM intent",
            rows::LOG_COLUMNS
        );
        let (account, integration) = (p.account.to_string(), p.integration.to_string());
        let key = IntegrationKey::new(p.integration, &p.external_uid);
        let mut client = self.client().await?;
        for _ in 0..INTENT_TRIES {
            let tx = client
                .transaction()
                .await
                .map_err(db_err("recording an intent"))?;
            // Serialised with `link` of the account or the customer (see the links module):
            // the statements after the locks see a link committed before them.
            crate::links::lock(&tx, &integration, &account, p.external_uid.as_str()).await?;
            let (of_account, of_customer) =
                crate::links::bound(&tx, &account, &integration, key.as_str()).await?;
            if let Some(bound) = of_account.or(of_customer) {
                // A live promotion refuses first: a promoted one's binding is its own.
                if let Some(refusal) = live_conflict(&tx, p).await? {
                    return Err(refusal);
                }
                return Err(RecordIntentError::Bound(Box::new(bound)));
            }
            let inserted = execute(&tx, &sql, &params)
                .await
                .map_err(|e| db_err(&format!("recording promotion {}", p.id))(e))?;
            if inserted == 1 {
                tx.commit().await.map_err(db_err("recording an intent"))?;
                return Ok(());
            }
            // The partial unique indexes decided (once the winner committed); nothing was
            // written. A fresh statement sees the winner.
            if let Some(refusal) = live_conflict(&tx, p).await? {
                return Err(refusal);
            }
            if select(&tx, "id = $1", &[&p.id.to_string()])
                .await?
                .pop()
                .is_some()
            {
                return Err(StoreError::Internal(format!(
                    "promotion {} is already recorded",
                    p.id
                ))
                .into());
            }
        }
        Err(StoreError::Busy(format!(
            "recording promotion {}: the live promotion it lost to kept settling",
            p.id
        ))
        .into())
    }

    async fn renew_lease(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        expires_at: Timestamp,
    ) -> Result<(), FencedWriteError> {
        self.fenced_update(
            &LEASED,
            id,
            holder,
            concat!(
                "UPDATE promotions SET lease_expires_at = $6 WHERE ",
                fence!()
            ),
            &[&ts(expires_at)],
        )
        .await
    }

    async fn confirm(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        binding: &Binding,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<(), FencedWriteError> {
        let row = rows::BindingRow::new(binding)?;
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(db_err("confirming a promotion"))?;
        let (id_s, host, pid, start, task) = lease::holder_values(id, holder);
        let kind = query(
            &tx,
            concat!(
                "UPDATE promotions SET state = 'promoted', ",
                no_lease!(),
                ", updated_at = $6, external_uid = $7 WHERE ",
                fence!(),
                " RETURNING erp_kind"
            ),
            &[
                &id_s,
                &host,
                &pid,
                &start,
                &task,
                &ts(now),
                &row.external_uid(),
            ],
        )
        .await
        .map_err(db_err("confirming a promotion"))?
        .pop();
        let Some(kind) = kind else {
            drop(tx);
            return Err(lease::refused(&client, &LEASED, id).await);
        };
        let kind: String = col(&kind, TABLE, "erp_kind")?;
        rows::replace_binding(&tx, &row, &kind).await?;
        rows::insert_log(&tx, log).await?;
        tx.commit()
            .await
            .map_err(db_err("confirming a promotion"))?;
        Ok(())
    }

    async fn fail(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        self.settle(id, holder, Settled::Failed, reason, now).await
    }

    async fn mark_needs_review(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        self.settle(id, holder, Settled::NeedsReview, reason, now)
            .await
    }

    async fn release_lease(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        self.release_held_lease(&LEASED, id, holder, now).await
    }

    async fn take_over(
        &self,
        id: PromotionId,
        expected: Option<&Lease>,
        new: &Lease,
    ) -> Result<(), TakeOverError> {
        self.take_over_lease(&LEASED, id, expected, new).await
    }

    async fn promotion(&self, id: PromotionId) -> Result<Option<Promotion>, StoreError> {
        let client = self.client().await?;
        Ok(select(&client, "id = $1", &[&id.to_string()]).await?.pop())
    }

    async fn in_flight(&self) -> Result<Vec<Promotion>, StoreError> {
        let client = self.client().await?;
        select(&client, "state = 'creating'", &[]).await
    }

    async fn promotions_of(&self, account: AccountId) -> Result<Vec<Promotion>, StoreError> {
        let client = self.client().await?;
        select(&client, "account_id = $1", &[&account.to_string()]).await
    }

    async fn bindings_of(&self, account: AccountId) -> Result<Vec<Binding>, StoreError> {
        let client = self.client().await?;
        rows::bindings_of(&client, account).await
    }

    async fn append_log(&self, entry: &LogEntry) -> Result<(), StoreError> {
        let client = self.client().await?;
        rows::insert_log(&client, entry).await
    }

    async fn log(&self, account: Option<AccountId>) -> Result<Vec<LogEntry>, StoreError> {
        let client = self.client().await?;
        rows::log(&client, account).await
    }

    async fn log_page(
        &self,
        account: Option<AccountId>,
        after: Option<LogPosition>,
        limit: usize,
    ) -> Result<Vec<(LogPosition, LogEntry)>, StoreError> {
        let client = self.client().await?;
        rows::log_page(&client, account, after, limit).await
    }
}
