//! [`BindingStore`]: `link`, `unlink` and the binding reads.
//!
//! A link and a promotion of the same account or customer must never both win, and neither
//! leaves a row in the other's unique indexes, so both take the same two transaction-scoped
//! advisory locks first — one on (integration, account), one on (integration, External UID),
//! always in that order — and check in statements that start after them, so each sees what the
//! other committed. Different accounts and customers never wait for each other.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use crm2sage_domain::ports::{BindingStore, LinkError, LogEntry, StoreError, UnlinkError};
use crm2sage_domain::{
    AccountId, Binding, BindingOrigin, ExternalUid, IntegrationId, IntegrationKey, Promotion,
    Timestamp,
};

use crate::db::{col, db_err, ts};
use crate::promotions::rows::{self, BINDING_COLUMNS, BindingRow, binding_from_row};
use crate::{PostgresStore, execute, query, query_map};

/// Takes the advisory locks of `account` and of the customer `uid` in `integration`, until the
/// end of the caller's transaction.
///
/// # Errors
/// [`StoreError`] (a deadlock the server broke is [`StoreError::Busy`]).
pub(crate) async fn lock<C: GenericClient>(
    client: &C,
    integration: &str,
    account: &str,
    uid: &str,
) -> Result<(), StoreError> {
    query(
        client,
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0)), \
         pg_advisory_xact_lock(hashtextextended($2, 0))",
        &[
            &format!("crm2sage:account:{integration}:{account}"),
            &format!("crm2sage:customer:{integration}:{uid}"),
        ],
    )
    .await
    .map_err(db_err("locking an account and a customer"))?;
    Ok(())
}

/// The binding in `integration` of `account`, and the one of the customer with Integration key
/// `key`: what refuses a link or an intent.
///
/// # Errors
/// [`StoreError`].
pub(crate) async fn bound<C: GenericClient>(
    client: &C,
    account: &str,
    integration: &str,
    key: &str,
) -> Result<(Option<Binding>, Option<Binding>), StoreError> {
    let found = query_map(
        client,
        &format!(
            "SELECT {BINDING_COLUMNS}, (account_id = $1 AND integration_id = $2) AS of_account \
             FROM bindings WHERE (account_id = $1 AND integration_id = $2) \
             OR integration_key = $3"
        ),
        &[&account, &integration, &key],
        "reading bindings",
        |row| {
            Ok((
                col::<bool>(row, "bindings", "of_account")?,
                binding_from_row(row)?,
            ))
        },
    )
    .await?;
    let mut out = (None, None);
    for (of_account, binding) in found {
        if of_account {
            out.0 = Some(binding);
        } else {
            out.1 = Some(binding);
        }
    }
    Ok(out)
}

/// A `creating` promotion of `integration` holding `account` or the customer `uid`.
async fn in_progress<C: GenericClient>(
    client: &C,
    integration: &str,
    account: &str,
    uid: &str,
) -> Result<Option<Promotion>, StoreError> {
    Ok(crate::promotions::select(
        client,
        "integration_id = $1 AND state = 'creating' AND (account_id = $2 OR external_uid = $3)",
        &[&integration, &account, &uid],
    )
    .await?
    .into_iter()
    .next())
}

#[async_trait]
impl BindingStore for PostgresStore {
    async fn link(&self, binding: &Binding, log: &LogEntry) -> Result<(), LinkError> {
        const WHAT: &str = "linking an account";
        let row = BindingRow::new(&Binding {
            origin: BindingOrigin::Linked,
            ..binding.clone()
        })?;
        let uid = binding.external_uid.as_str();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err(WHAT))?;
        lock(&tx, row.integration(), row.account(), uid).await?;
        let (of_account, of_customer) =
            bound(&tx, row.account(), row.integration(), row.integration_key()).await?;
        if let Some(bound) = of_account {
            return Err(LinkError::AccountBound(Box::new(bound)));
        }
        if let Some(bound) = of_customer {
            return Err(LinkError::CustomerBound(Box::new(bound)));
        }
        if let Some(live) = in_progress(&tx, row.integration(), row.account(), uid).await? {
            return Err(LinkError::InProgress(Box::new(live)));
        }
        let kind: String = query(
            &tx,
            "SELECT kind FROM integrations WHERE id = $1",
            &[&row.integration()],
        )
        .await
        .map_err(db_err(WHAT))?
        .first()
        .map(|r| col(r, "integrations", "kind"))
        .transpose()?
        .ok_or_else(|| StoreError::Internal(format!("{WHAT}: no such integration")))?;
        rows::replace_binding(&tx, &row, &kind).await?;
        rows::insert_log(&tx, log).await?;
        tx.commit().await.map_err(db_err(WHAT))?;
        Ok(())
    }

    async fn unlink(
        &self,
        account: AccountId,
        integration: IntegrationId,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<Binding, UnlinkError> {
        const WHAT: &str = "unlinking an account";
        let (account, integration) = (account.to_string(), integration.to_string());
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err(WHAT))?;
        let removed = query_map(
            &tx,
            &format!(
                "DELETE FROM bindings WHERE account_id = $1 AND integration_id = $2 \
                 RETURNING {BINDING_COLUMNS}"
            ),
            &[&account, &integration],
            WHAT,
            binding_from_row,
        )
        .await?
        .pop();
        let Some(removed) = removed else {
            return Err(UnlinkError::NotBound);
        };
        execute(
            &tx,
            "UPDATE promotions SET state = 'unlinked', updated_at = $3 \
             WHERE integration_id = $1 AND account_id = $2 AND state = 'promoted'",
            &[&integration, &account, &ts(now)],
        )
        .await
        .map_err(db_err(WHAT))?;
        rows::insert_log(&tx, log).await?;
        tx.commit().await.map_err(db_err(WHAT))?;
        Ok(removed)
    }

    async fn bindings_page(
        &self,
        integration: IntegrationId,
        after: Option<&IntegrationKey>,
        limit: usize,
    ) -> Result<Vec<Binding>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // Every key of the integration starts with `{id}:`, so after none is after that.
        let after = after.map_or_else(|| format!("{integration}:"), |k| k.as_str().to_owned());
        let client = self.client().await?;
        query_map(
            &client,
            &format!(
                "SELECT {BINDING_COLUMNS} FROM bindings WHERE integration_key > $2 \
                 AND integration_id = $1 ORDER BY integration_key LIMIT $3"
            ),
            &[
                &integration.to_string(),
                &after,
                &i64::try_from(limit).unwrap_or(i64::MAX),
            ],
            "reading bindings",
            binding_from_row,
        )
        .await
    }

    async fn bindings_of_accounts(
        &self,
        integration: IntegrationId,
        accounts: &[AccountId],
    ) -> Result<Vec<Binding>, StoreError> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let accounts: Vec<String> = accounts.iter().map(ToString::to_string).collect();
        let client = self.client().await?;
        query_map(
            &client,
            &format!(
                "SELECT {BINDING_COLUMNS} FROM bindings WHERE integration_id = $1 \
                 AND account_id = ANY ($2)"
            ),
            &[&integration.to_string(), &accounts],
            "reading bindings",
            binding_from_row,
        )
        .await
    }

    async fn bindings_of_customers(
        &self,
        integration: IntegrationId,
        uids: &[ExternalUid],
    ) -> Result<Vec<Binding>, StoreError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = uids
            .iter()
            .map(|u| IntegrationKey::new(integration, u).as_str().to_owned())
            .collect();
        let client = self.client().await?;
        query_map(
            &client,
            &format!(
                "SELECT {BINDING_COLUMNS} FROM bindings WHERE integration_id = $1 \
                 AND integration_key = ANY ($2)"
            ),
            &[&integration.to_string(), &keys],
            "reading bindings",
            binding_from_row,
        )
        .await
    }
}
