//! [`IntegrationStore`] over the `integrations` table.

use async_trait::async_trait;
use tokio_postgres::Row;

use crm2sage_domain::ports::{
    AddIntegrationError, IntegrationStore, RemoveIntegrationError, SetDefaultError, StoreError,
    UpdateIntegrationError,
};
use crm2sage_domain::{
    ArDivision, BaseUrl, CompanyCode, CustomerNameMax, ErpFieldName, ErpKind, HttpPolicy,
    Integration, IntegrationId, IntegrationName, IntegrationParts, IntegrationSettings,
    RequestTimeout, SecretRef, TrustedCa, UserName,
};

use crate::db::{col, corrupt, db_err, is_fk_violation, known, parse_ts, parsed, parsed_opt, ts};
use crate::{PostgresStore, execute, query};

const TABLE: &str = "integrations";

const COLUMNS: &str = "id, name, kind, base_url, company, user_name, secret_ref, crm_id_field, \
     http_policy, default_division, customer_name_max, is_default, created_at, timeout_secs, ca_pem";

/// Serialises the writes that keep "one default" and "unique name" (rare operations): a
/// transaction-scoped advisory lock.
const LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('crm2sage integrations'))";

fn policy_str(policy: HttpPolicy) -> &'static str {
    match policy {
        HttpPolicy::HttpsOnly => "https_only",
        HttpPolicy::AllowInsecureHttp => "allow_insecure_http",
    }
}

fn parse_policy(raw: &str) -> Option<HttpPolicy> {
    match raw {
        "https_only" => Some(HttpPolicy::HttpsOnly),
        "allow_insecure_http" => Some(HttpPolicy::AllowInsecureHttp),
        _ => None,
    }
}

fn parse_secret(raw: &str) -> Result<SecretRef, String> {
    if let Some(name) = raw.strip_prefix("env:") {
        SecretRef::env(name).map_err(|e| e.to_string())
    } else if let Some(key) = raw.strip_prefix("external:") {
        SecretRef::external(key).map_err(|e| e.to_string())
    } else {
        Err("not `env:NAME` or `external:KEY`".into())
    }
}

pub(crate) fn from_row(row: &Row) -> Result<Integration, StoreError> {
    let kind: ErpKind = parsed(row, TABLE, "kind", str::parse)?;
    let settings = match kind {
        ErpKind::Sage300 => IntegrationSettings::Sage300,
        ErpKind::Sage100 => {
            let max: i64 = col(row, TABLE, "customer_name_max")?;
            IntegrationSettings::Sage100 {
                default_division: parsed(row, TABLE, "default_division", ArDivision::parse)?,
                customer_name_max: u32::try_from(max)
                    .ok()
                    .and_then(CustomerNameMax::from_len)
                    .ok_or_else(|| corrupt(TABLE, "customer_name_max", max))?,
            }
        }
    };
    let timeout = col::<Option<i64>>(row, TABLE, "timeout_secs")?
        .map(|secs| {
            u64::try_from(secs)
                .ok()
                .and_then(|s| RequestTimeout::from_secs(s).ok())
                .ok_or_else(|| corrupt(TABLE, "timeout_secs", secs))
        })
        .transpose()?;
    // Read without parsed_opt: a corrupt value is not repeated in the error.
    let trusted_ca = col::<Option<&str>>(row, TABLE, "ca_pem")?
        .map(|pem| TrustedCa::parse(pem).map_err(|e| corrupt(TABLE, "ca_pem", e)))
        .transpose()?;
    Ok(Integration::restore(IntegrationParts {
        id: parsed(row, TABLE, "id", IntegrationId::parse)?,
        name: parsed(row, TABLE, "name", IntegrationName::parse)?,
        settings,
        base_url: parsed(row, TABLE, "base_url", BaseUrl::parse)?,
        company: parsed(row, TABLE, "company", CompanyCode::parse)?,
        user: parsed(row, TABLE, "user_name", UserName::parse)?,
        secret: parsed(row, TABLE, "secret_ref", parse_secret)?,
        crm_id_field: parsed_opt(row, TABLE, "crm_id_field", |raw| {
            ErpFieldName::parse(kind, raw)
        })?,
        http_policy: parsed(
            row,
            TABLE,
            "http_policy",
            known("transport policy", parse_policy),
        )?,
        timeout,
        trusted_ca,
        is_default: col(row, TABLE, "is_default")?,
        created_at: parsed(row, TABLE, "created_at", parse_ts)?,
    }))
}

fn timeout_column(i: &Integration) -> Option<i64> {
    i.timeout().and_then(|t| i64::try_from(t.as_secs()).ok())
}

impl PostgresStore {
    /// Every integration matching `filter` (an SQL condition on `params`), by name.
    async fn select_integrations(
        &self,
        filter: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Integration>, StoreError> {
        self.select_integrations_sql(&format!("{filter} ORDER BY name"), params)
            .await
    }

    /// Every integration matching `tail` (an SQL condition with its ORDER BY and LIMIT).
    async fn select_integrations_sql(
        &self,
        tail: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Integration>, StoreError> {
        let client = self.client().await?;
        let sql = format!("SELECT {COLUMNS} FROM integrations WHERE {tail}");
        query(&client, &sql, params)
            .await
            .map_err(db_err("reading integrations"))?
            .iter()
            .map(from_row)
            .collect()
    }
}

#[async_trait]
impl IntegrationStore for PostgresStore {
    async fn add_integration(&self, integration: &Integration) -> Result<(), AddIntegrationError> {
        let i = integration;
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(db_err("adding an integration"))?;
        tx.batch_execute(LOCK)
            .await
            .map_err(db_err("adding an integration"))?;
        let taken = tx
            .query_opt(
                "SELECT 1 FROM integrations WHERE name = $1",
                &[&i.name().as_str()],
            )
            .await
            .map_err(db_err("adding an integration"))?
            .is_some();
        if taken {
            return Err(AddIntegrationError::NameTaken(i.name().clone()));
        }
        if i.is_default() {
            tx.execute(
                "UPDATE integrations SET is_default = FALSE WHERE is_default",
                &[],
            )
            .await
            .map_err(db_err("clearing the default integration"))?;
        }
        let (division, name_max) = match i.settings() {
            IntegrationSettings::Sage300 => (None, None),
            IntegrationSettings::Sage100 {
                default_division,
                customer_name_max,
            } => (
                Some(default_division.as_str().to_owned()),
                i64::try_from(customer_name_max.chars()).ok(),
            ),
        };
        let secret = i.secret().to_string();
        tx.execute(
            &format!(
                "INSERT INTO integrations ({COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            ),
            &[
                &i.id().to_string(),
                &i.name().as_str(),
                &i.kind().as_str(),
                &i.base_url().as_str(),
                &i.company().as_str(),
                &i.user().as_str(),
                &secret,
                &i.crm_id_field().map(ErpFieldName::as_str),
                &policy_str(i.http_policy()),
                &division,
                &name_max,
                &i.is_default(),
                &ts(i.created_at()),
                &timeout_column(i),
                &i.trusted_ca().map(TrustedCa::as_pem),
            ],
        )
        .await
        .map_err(db_err("adding an integration"))?;
        tx.commit().await.map_err(db_err("adding an integration"))?;
        Ok(())
    }

    async fn integrations(&self) -> Result<Vec<Integration>, StoreError> {
        self.select_integrations("TRUE", &[]).await
    }

    async fn integrations_page(
        &self,
        after: Option<&IntegrationName>,
        limit: usize,
    ) -> Result<Vec<Integration>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // The name's unique index is the keyset; the column's "C" collation orders by bytes,
        // as `IntegrationName` compares.
        match after {
            None => {
                self.select_integrations_sql("TRUE ORDER BY name LIMIT $1", &[&limit])
                    .await
            }
            Some(after) => {
                self.select_integrations_sql(
                    "name > $1 ORDER BY name LIMIT $2",
                    &[&after.as_str(), &limit],
                )
                .await
            }
        }
    }

    async fn integration_by_name(
        &self,
        name: &IntegrationName,
    ) -> Result<Option<Integration>, StoreError> {
        Ok(self
            .select_integrations("name = $1", &[&name.as_str()])
            .await?
            .pop())
    }

    async fn integration(&self, id: IntegrationId) -> Result<Option<Integration>, StoreError> {
        Ok(self
            .select_integrations("id = $1", &[&id.to_string()])
            .await?
            .pop())
    }

    async fn default_integration(&self) -> Result<Option<Integration>, StoreError> {
        Ok(self.select_integrations("is_default", &[]).await?.pop())
    }

    async fn set_default(&self, name: &IntegrationName) -> Result<(), SetDefaultError> {
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(db_err("setting the default integration"))?;
        tx.batch_execute(LOCK)
            .await
            .map_err(db_err("setting the default integration"))?;
        // Clear first: the partial unique index allows one default at any moment.
        tx.execute(
            "UPDATE integrations SET is_default = FALSE WHERE is_default AND name <> $1",
            &[&name.as_str()],
        )
        .await
        .map_err(db_err("clearing the default integration"))?;
        let changed = tx
            .execute(
                "UPDATE integrations SET is_default = TRUE WHERE name = $1",
                &[&name.as_str()],
            )
            .await
            .map_err(db_err("setting the default integration"))?;
        if changed == 0 {
            // Dropping the transaction rolls the clearing back.
            return Err(SetDefaultError::NotFound(name.clone()));
        }
        tx.commit()
            .await
            .map_err(db_err("setting the default integration"))?;
        Ok(())
    }

    async fn update_integration(
        &self,
        integration: &Integration,
    ) -> Result<(), UpdateIntegrationError> {
        let i = integration;
        let client = self.client().await?;
        let secret = i.secret().to_string();
        let changed = execute(
            &client,
            "UPDATE integrations SET base_url = $2, user_name = $3, secret_ref = $4, \
             crm_id_field = $5, http_policy = $6, timeout_secs = $7, ca_pem = $8 \
             WHERE id = $1",
            &[
                &i.id().to_string(),
                &i.base_url().as_str(),
                &i.user().as_str(),
                &secret,
                &i.crm_id_field().map(ErpFieldName::as_str),
                &policy_str(i.http_policy()),
                &timeout_column(i),
                &i.trusted_ca().map(TrustedCa::as_pem),
            ],
        )
        .await
        .map_err(db_err("changing an integration"))?;
        if changed == 0 {
            return Err(UpdateIntegrationError::NotFound(i.name().clone()));
        }
        Ok(())
    }

    async fn remove_integration(
        &self,
        name: &IntegrationName,
    ) -> Result<(), RemoveIntegrationError> {
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(db_err("removing an integration"))?;
        // Locking the row waits for intents being recorded against it (their foreign key
        // check holds a share lock), so the check below sees them.
        let Some(row) = tx
            .query_opt(
                "SELECT id FROM integrations WHERE name = $1 FOR UPDATE",
                &[&name.as_str()],
            )
            .await
            .map_err(db_err("removing an integration"))?
        else {
            return Err(RemoveIntegrationError::NotFound(name.clone()));
        };
        let id: String = col(&row, TABLE, "id")?;
        let in_use: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM promotions WHERE integration_id = $1) \
                 OR EXISTS (SELECT 1 FROM bindings WHERE integration_id = $1) \
                 OR EXISTS (SELECT 1 FROM party_promotions WHERE integration_id = $1)",
                &[&id],
            )
            .await
            .and_then(|r| r.try_get(0))
            .map_err(db_err("checking an integration's promotions"))?;
        if in_use {
            return Err(RemoveIntegrationError::InUse(name.clone()));
        }
        // Reference data, sync runs and their staging go with it (ON DELETE CASCADE; the
        // staging of its running runs is deleted here).
        tx.execute(
            "DELETE FROM sync_staging WHERE run_seq IN \
             (SELECT seq FROM sync_runs WHERE integration_id = $1)",
            &[&id],
        )
        .await
        .map_err(db_err("removing an integration"))?;
        match tx
            .execute("DELETE FROM integrations WHERE id = $1", &[&id])
            .await
        {
            Ok(_) => {}
            Err(e) if is_fk_violation(&e) => {
                return Err(RemoveIntegrationError::InUse(name.clone()));
            }
            Err(e) => return Err(db_err("removing an integration")(e).into()),
        }
        tx.commit()
            .await
            .map_err(db_err("removing an integration"))?;
        Ok(())
    }
}
