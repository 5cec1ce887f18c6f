//! [`IntegrationStore`] over the `integrations` table.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crm2sage_domain::ports::{
    AddIntegrationError, IntegrationStore, RemoveIntegrationError, SetDefaultError, StoreError,
    UpdateIntegrationError,
};
use crm2sage_domain::{
    ArDivision, BaseUrl, CompanyCode, CustomerNameMax, ErpFieldName, ErpKind, HttpPolicy,
    Integration, IntegrationId, IntegrationName, IntegrationParts, IntegrationSettings,
    RequestTimeout, SecretRef, TrustedCa, UserName,
};

use crate::SqliteStore;
use crate::db::{col, db_err, known, parse_ts, parsed, parsed_opt, ts, write_tx};

const TABLE: &str = "integrations";

const COLUMNS: &str = "id, name, kind, base_url, company, user_name, secret_ref, crm_id_field, \
     http_policy, default_division, customer_name_max, is_default, created_at, timeout_secs, ca_pem";

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

pub(crate) fn from_row(row: &Row<'_>) -> Result<Integration, StoreError> {
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
                    .ok_or_else(|| {
                        crate::db::corrupt(TABLE, "customer_name_max", format!("{max}"))
                    })?,
            }
        }
    };
    let is_default: i64 = col(row, TABLE, "is_default")?;
    let timeout = col::<Option<i64>>(row, TABLE, "timeout_secs")?
        .map(|secs| {
            u64::try_from(secs)
                .ok()
                .and_then(|s| RequestTimeout::from_secs(s).ok())
                .ok_or_else(|| crate::db::corrupt(TABLE, "timeout_secs", format!("{secs}")))
        })
        .transpose()?;
    // Read without parsed_opt: a corrupt value is not repeated in the error.
    let trusted_ca = col::<Option<String>>(row, TABLE, "ca_pem")?
        .map(|pem| {
            TrustedCa::parse(&pem).map_err(|e| crate::db::corrupt(TABLE, "ca_pem", e.to_string()))
        })
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
        is_default: is_default != 0,
        created_at: parsed(row, TABLE, "created_at", parse_ts)?,
    }))
}

fn timeout_column(i: &Integration) -> Option<i64> {
    i.timeout().and_then(|t| i64::try_from(t.as_secs()).ok())
}

/// Every integration matching `filter` (an SQL condition on `params`), by name.
pub(crate) fn select<P: rusqlite::Params>(
    conn: &Connection,
    filter: &str,
    params: P,
) -> Result<Vec<Integration>, StoreError> {
    select_sql(conn, &format!("{filter} ORDER BY name"), params)
}

/// Every integration matching `tail` (an SQL condition with its ORDER BY and LIMIT).
fn select_sql<P: rusqlite::Params>(
    conn: &Connection,
    tail: &str,
    params: P,
) -> Result<Vec<Integration>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM integrations WHERE {tail}");
    let mut stmt = conn
        .prepare_cached(&sql)
        .map_err(db_err("reading integrations"))?;
    let mut rows = stmt.query(params).map_err(db_err("reading integrations"))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err("reading integrations"))? {
        out.push(from_row(row)?);
    }
    Ok(out)
}

fn id_of(conn: &Connection, name: &IntegrationName) -> Result<Option<String>, StoreError> {
    conn.prepare_cached("SELECT id FROM integrations WHERE name = ?1")
        .and_then(|mut s| s.query_row([name.as_str()], |r| r.get(0)).optional())
        .map_err(db_err("finding an integration"))
}

#[async_trait]
impl IntegrationStore for SqliteStore {
    async fn add_integration(&self, integration: &Integration) -> Result<(), AddIntegrationError> {
        let i = integration.clone();
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            if id_of(&tx, i.name())?.is_some() {
                return Err(AddIntegrationError::NameTaken(i.name().clone()));
            }
            if i.is_default() {
                tx.execute(
                    "UPDATE integrations SET is_default = 0 WHERE is_default = 1",
                    [],
                )
                .map_err(db_err("clearing the default integration"))?;
            }
            let (division, name_max) = match i.settings() {
                IntegrationSettings::Sage300 => (None, None),
                IntegrationSettings::Sage100 {
                    default_division,
                    customer_name_max,
                } => (
                    Some(default_division.as_str().to_owned()),
                    Some(customer_name_max.chars() as i64),
                ),
            };
            tx.execute(
                &format!(
                    "INSERT INTO integrations ({COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                ),
                params![
                    i.id().to_string(),
                    i.name().as_str(),
                    i.kind().as_str(),
                    i.base_url().as_str(),
                    i.company().as_str(),
                    i.user().as_str(),
                    i.secret().to_string(),
                    i.crm_id_field().map(ErpFieldName::as_str),
                    policy_str(i.http_policy()),
                    division,
                    name_max,
                    i.is_default(),
                    ts(i.created_at()),
                    timeout_column(&i),
                    i.trusted_ca().map(TrustedCa::as_pem),
                ],
            )
            .map_err(db_err("adding an integration"))?;
            tx.commit().map_err(db_err("adding an integration"))?;
            Ok(())
        })
        .await
    }

    async fn integrations(&self) -> Result<Vec<Integration>, StoreError> {
        self.read(|conn| select(conn, "1", [])).await
    }

    async fn integrations_page(
        &self,
        after: Option<&IntegrationName>,
        limit: usize,
    ) -> Result<Vec<Integration>, StoreError> {
        let after = after.map(|n| n.as_str().to_owned());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // The name's unique index is the keyset (BINARY order: byte order, as Rust's).
        self.read(move |conn| match after {
            None => select_sql(conn, "1 ORDER BY name LIMIT ?1", params![limit]),
            Some(after) => select_sql(
                conn,
                "name > ?1 ORDER BY name LIMIT ?2",
                params![after, limit],
            ),
        })
        .await
    }

    async fn integration_by_name(
        &self,
        name: &IntegrationName,
    ) -> Result<Option<Integration>, StoreError> {
        let name = name.as_str().to_owned();
        self.read_point(move |conn| Ok(select(conn, "name = ?1", [name])?.pop()))
            .await
    }

    async fn integration(&self, id: IntegrationId) -> Result<Option<Integration>, StoreError> {
        self.read_point(move |conn| Ok(select(conn, "id = ?1", [id.to_string()])?.pop()))
            .await
    }

    async fn default_integration(&self) -> Result<Option<Integration>, StoreError> {
        self.read_point(|conn| Ok(select(conn, "is_default = 1", [])?.pop()))
            .await
    }

    async fn set_default(&self, name: &IntegrationName) -> Result<(), SetDefaultError> {
        let name = name.clone();
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            if id_of(&tx, &name)?.is_none() {
                return Err(SetDefaultError::NotFound(name));
            }
            // Clear first: the partial unique index allows one default at any moment.
            tx.execute(
                "UPDATE integrations SET is_default = 0 WHERE is_default = 1 AND name <> ?1",
                [name.as_str()],
            )
            .map_err(db_err("clearing the default integration"))?;
            tx.execute(
                "UPDATE integrations SET is_default = 1 WHERE name = ?1",
                [name.as_str()],
            )
            .map_err(db_err("setting the default integration"))?;
            tx.commit()
                .map_err(db_err("setting the default integration"))?;
            Ok(())
        })
        .await
    }

    async fn update_integration(
        &self,
        integration: &Integration,
    ) -> Result<(), UpdateIntegrationError> {
        let i = integration.clone();
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            let changed = tx
                .execute(
                    "UPDATE integrations SET base_url = ?2, user_name = ?3, secret_ref = ?4, \
                     crm_id_field = ?5, http_policy = ?6, timeout_secs = ?7, ca_pem = ?8 \
                     WHERE id = ?1",
                    params![
                        i.id().to_string(),
                        i.base_url().as_str(),
                        i.user().as_str(),
                        i.secret().to_string(),
                        i.crm_id_field().map(ErpFieldName::as_str),
                        policy_str(i.http_policy()),
                        timeout_column(&i),
                        i.trusted_ca().map(TrustedCa::as_pem),
                    ],
                )
                .map_err(db_err("changing an integration"))?;
            if changed == 0 {
                return Err(UpdateIntegrationError::NotFound(i.name().clone()));
            }
            tx.commit().map_err(db_err("changing an integration"))?;
            Ok(())
        })
        .await
    }

    async fn remove_integration(
        &self,
        name: &IntegrationName,
    ) -> Result<(), RemoveIntegrationError> {
        let name = name.clone();
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            let Some(id) = id_of(&tx, &name)? else {
                return Err(RemoveIntegrationError::NotFound(name));
            };
            let in_use: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM promotions WHERE integration_id = ?1) \
                     OR EXISTS (SELECT 1 FROM bindings WHERE integration_id = ?1) \
                     OR EXISTS (SELECT 1 FROM party_promotions WHERE integration_id = ?1)",
                    [&id],
                    |r| r.get(0),
                )
                .map_err(db_err("checking an integration's promotions"))?;
            if in_use {
                return Err(RemoveIntegrationError::InUse(name));
            }
            // Reference records, sync runs and their staging go with it (ON DELETE CASCADE).
            tx.execute("DELETE FROM integrations WHERE id = ?1", [&id])
                .map_err(db_err("removing an integration"))?;
            tx.commit().map_err(db_err("removing an integration"))?;
            Ok(())
        })
        .await
    }
}
