//! Taking a copied store in: [`StoreImport`] and [`CountRows`] for [`PostgresStore`].
//!
//! Each page is one transaction. Rows keep their ids, timestamps, states, leases and errors;
//! the `seq` columns are the target's own, given in the order the pages arrive (the source's
//! order), so listings read in the same order. Reference records hang off a set per
//! (integration, kind) as the sync code writes them: the set's time is its last `ok` run's
//! (sync runs are imported first), and an active record that reads as that time is stored as
//! "returned by the last sync".
//!
//! The customer index is left out: a cache of the ERP's customers that the next full customer
//! sync rebuilds (see `crm2sage_domain::ports::CopySection`'s module).

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::types::ToSql;

use crm2sage_domain::ports::{CopyPage, CountRows, LogEntry, RowCounts, StoreError, StoreImport};
use crm2sage_domain::{
    Binding, ErpFieldName, HttpPolicy, Integration, IntegrationSettings, PartyPromotion, Promotion,
    ReferenceRecord, SyncRun, TrustedCa,
};

use crate::db::{
    as_params, code_cols, count_to_sql, db_err, extras_to_json, record_to_json, to_count, ts,
};
use crate::{PostgresStore, execute, query};

const COUNTS: &str = "SELECT (SELECT count(*) FROM integrations), \
     (SELECT count(*) FROM accounts), (SELECT count(*) FROM reference_records), \
     (SELECT count(*) FROM sync_runs), (SELECT count(*) FROM promotions), \
     (SELECT count(*) FROM bindings), (SELECT count(*) FROM promotion_log), \
     (SELECT count(*) FROM ship_tos), (SELECT count(*) FROM contacts), \
     (SELECT count(*) FROM party_promotions)";

#[async_trait]
impl CountRows for PostgresStore {
    async fn row_counts(&self) -> Result<RowCounts, StoreError> {
        let client = self.client().await?;
        let row = query(&client, COUNTS, &[])
            .await
            .map_err(db_err("counting rows"))?
            .pop()
            .ok_or_else(|| StoreError::Internal("counting rows: no answer".into()))?;
        let n = |i: usize| -> Result<u64, StoreError> {
            row.try_get::<_, i64>(i)
                .map(to_count)
                .map_err(db_err("counting rows"))
        };
        Ok(RowCounts {
            integrations: n(0)?,
            accounts: n(1)?,
            reference_records: n(2)?,
            sync_runs: n(3)?,
            promotions: n(4)?,
            bindings: n(5)?,
            log: n(6)?,
            ship_tos: n(7)?,
            contacts: n(8)?,
            party_promotions: n(9)?,
        })
    }
}

#[async_trait]
impl StoreImport for PostgresStore {
    async fn import_page(&self, page: &CopyPage) -> Result<(), StoreError> {
        if let CopyPage::Accounts(accounts) = page {
            // The port's own batch insert: one transaction, every column as given.
            return crm2sage_domain::ports::AccountStore::insert_accounts(self, accounts).await;
        }
        // One transaction each; a source account has at most one primary, so a page in
        // (account, code) order never trips the one-primary index.
        if let CopyPage::ShipTos(rows) = page {
            return crm2sage_domain::ports::ShipToStore::put_ship_tos(self, rows.clone())
                .await
                .map_err(|e| StoreError::Internal(format!("importing ship-tos: {e}")));
        }
        if let CopyPage::Contacts(rows) = page {
            return crm2sage_domain::ports::ContactStore::put_contacts(self, rows.clone())
                .await
                .map_err(|e| StoreError::Internal(format!("importing contacts: {e}")));
        }
        let err = db_err("importing a page");
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(&err)?;
        match page {
            CopyPage::Integrations(rows) => {
                for i in rows {
                    integration(&tx, i).await?;
                }
            }
            CopyPage::SyncRuns(rows) => {
                for run in rows {
                    sync_run(&tx, run).await?;
                }
            }
            CopyPage::ReferenceRecords(rows) => {
                for r in rows {
                    record(&tx, r).await?;
                }
            }
            CopyPage::Promotions(rows) => {
                for p in rows {
                    promotion(&tx, p).await?;
                }
            }
            CopyPage::Bindings(rows) => {
                for b in rows {
                    binding(&tx, b).await?;
                }
            }
            CopyPage::PartyPromotions(rows) => {
                for p in rows {
                    party_promotion(&tx, p).await?;
                }
            }
            CopyPage::Log(rows) => {
                for e in rows {
                    log(&tx, e).await?;
                }
            }
            other => {
                return Err(StoreError::Internal(format!(
                    "cannot import a page of {}",
                    other.section()
                )));
            }
        }
        tx.commit().await.map_err(&err)?;
        Ok(())
    }
}

async fn integration(tx: &Transaction<'_>, i: &Integration) -> Result<(), StoreError> {
    let (division, name_max) = match i.settings() {
        IntegrationSettings::Sage100 {
            default_division,
            customer_name_max,
        } => (
            Some(default_division.as_str().to_owned()),
            i64::try_from(customer_name_max.chars()).ok(),
        ),
        _ => (None, None),
    };
    let policy = match i.http_policy() {
        HttpPolicy::AllowInsecureHttp => "allow_insecure_http",
        _ => "https_only",
    };
    let timeout = i.timeout().and_then(|t| i64::try_from(t.as_secs()).ok());
    execute(
        tx,
        "INSERT INTO integrations (id, name, kind, base_url, company, user_name, secret_ref, \
         crm_id_field, http_policy, default_division, customer_name_max, is_default, \
         created_at, timeout_secs, ca_pem) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        &[
            &i.id().to_string(),
            &i.name().as_str(),
            &i.kind().as_str(),
            &i.base_url().as_str(),
            &i.company().as_str(),
            &i.user().as_str(),
            &i.secret().to_string(),
            &i.crm_id_field().map(ErpFieldName::as_str),
            &policy,
            &division,
            &name_max,
            &i.is_default(),
            &ts(i.created_at()),
            &timeout,
            &i.trusted_ca().map(TrustedCa::as_pem),
        ],
    )
    .await
    .map_err(|e| db_err(&format!("importing integration {}", i.name()))(e))?;
    Ok(())
}

async fn sync_run(tx: &Transaction<'_>, run: &SyncRun) -> Result<(), StoreError> {
    let count = |n: u64| count_to_sql(n, "a sync count");
    let last_activity = ts(run.finished_at.unwrap_or(run.started_at));
    execute(
        tx,
        "INSERT INTO sync_runs (id, integration_id, kind, started_at, last_activity, \
         finished_at, outcome, added, updated, deactivated, total, error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            &run.id.to_string(),
            &run.integration.to_string(),
            &run.kind.as_str(),
            &ts(run.started_at),
            &last_activity,
            &run.finished_at.map(ts),
            &run.outcome.as_str(),
            &count(run.counts.added)?,
            &count(run.counts.updated)?,
            &count(run.counts.deactivated)?,
            &count(run.counts.total)?,
            &run.error,
        ],
    )
    .await
    .map_err(|e| db_err(&format!("importing sync run {}", run.id))(e))?;
    Ok(())
}

async fn record(tx: &Transaction<'_>, r: &ReferenceRecord) -> Result<(), StoreError> {
    let err = db_err("importing a reference record");
    let integration = r.integration.to_string();
    let synced_at = ts(r.synced_at);
    let set = query(
        tx,
        "INSERT INTO reference_sets (integration_id, kind, synced_at) \
         VALUES ($1, $2, coalesce((SELECT finished_at FROM sync_runs \
             WHERE integration_id = $1 AND kind = $2 AND outcome = 'ok' \
             ORDER BY seq DESC LIMIT 1), $3)) \
         ON CONFLICT (integration_id, kind) DO UPDATE SET kind = excluded.kind \
         RETURNING id, synced_at",
        &[&integration, &r.kind.as_str(), &synced_at],
    )
    .await
    .map_err(&err)?
    .pop()
    .ok_or_else(|| StoreError::Internal("the reference set was not written".into()))?;
    let set_id: i64 = set.try_get(0).map_err(&err)?;
    let set_time: String = set.try_get(1).map_err(&err)?;
    // Active means the set's last sync returned it: it reads as the set's time.
    let own_time = (!(r.active && synced_at == set_time)).then_some(synced_at);
    let (terms, terms_key) = code_cols(r.extras.default_terms.as_ref());
    let (tax, tax_key) = code_cols(r.extras.default_tax_group.as_ref());
    let extras = extras_to_json(&r.extras)?;
    let params: [&(dyn ToSql + Sync); 11] = [
        &set_id,
        &r.code.key(),
        &r.code.as_str(),
        &r.description,
        &r.active,
        &terms,
        &terms_key,
        &tax,
        &tax_key,
        &extras,
        &own_time,
    ];
    execute(
        tx,
        "INSERT INTO reference_records (set_id, code_key, code, description, active, \
         default_terms, default_terms_key, default_tax_group, default_tax_group_key, extras, \
         synced_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &params,
    )
    .await
    .map_err(|e| db_err(&format!("importing reference record {}", r.code))(e))?;
    Ok(())
}

async fn promotion(tx: &Transaction<'_>, p: &Promotion) -> Result<(), StoreError> {
    let values = crate::promotions::intent_values(p);
    let params = as_params(&values);
    execute(
        tx,
        "INSERT INTO promotions (id, account_id, integration_id, erp_kind, customer_no, \
         category, tax_group, terms, division, salesperson, ship_method, tax_schedule, \
         external_uid, state, lease_host, lease_pid, lease_process_start, lease_task, \
         lease_expires_at, error, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, \
         $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
        &params,
    )
    .await
    .map_err(|e| db_err(&format!("importing promotion {}", p.id))(e))?;
    Ok(())
}

async fn party_promotion(tx: &Transaction<'_>, p: &PartyPromotion) -> Result<(), StoreError> {
    let values = crate::party_promotions::rows::values(p);
    let params = as_params(&values);
    execute(
        tx,
        &format!(
            "INSERT INTO party_promotions ({}) VALUES ({})",
            crate::party_promotions::rows::COLUMNS,
            crate::party_promotions::rows::PLACEHOLDERS
        ),
        &params,
    )
    .await
    .map_err(|e| db_err(&format!("importing party promotion {}", p.id))(e))?;
    Ok(())
}

async fn binding(tx: &Transaction<'_>, b: &Binding) -> Result<(), StoreError> {
    execute(
        tx,
        "INSERT INTO bindings (account_id, integration_id, erp_kind, customer_no, \
         external_uid, integration_key, promoted_at, erp_record, origin) \
         SELECT $1, $2, kind, $3, $4, $5, $6, $7, $8 FROM integrations WHERE id = $2",
        &[
            &b.account.to_string(),
            &b.integration.to_string(),
            &b.customer_no.as_str(),
            &b.external_uid.as_str(),
            &b.integration_key.as_str(),
            &ts(b.promoted_at),
            &record_to_json(&b.erp_record)?,
            &b.origin.as_str(),
        ],
    )
    .await
    .map_err(|e| db_err(&format!("importing the binding of account {}", b.account))(e))?;
    Ok(())
}

async fn log<C: GenericClient>(client: &C, e: &LogEntry) -> Result<(), StoreError> {
    crate::promotions::rows::insert_log(client, e).await
}
