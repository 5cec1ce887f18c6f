//! `link` and `unlink`: bind an account to a customer the ERP already has, or remove a binding,
//! by hand. A link reads the customer live, writes the binding (origin `linked`), logs it and —
//! when the integration has a CRM-id field — writes the account id into the ERP customer with
//! an idempotent update, so `recover` and `reconcile` recognise it later. An unlink removes the
//! binding (the log keeps it) and never touches the ERP.

use std::time::Instant;

use crate::codes::{ArDivision, CustomerNo};
use crate::error_class::{ErrorClass, ErrorCode};
use crate::field::{InvalidField, InvalidFields};
use crate::ids::AccountId;
use crate::integration::{Integration, IntegrationName, IntegrationSettings};
use crate::ports::{
    ErpConnector, ErpCustomerKey, ErpReadError, ErpWriteError, LinkError, LogEvent, Store,
    StoreError, UnlinkError,
};
use crate::promotion::{Binding, BindingOrigin, ExternalUid, IntegrationKey};

use super::audit::Audit;
use super::{GatewayError, ResolveError, Services};

/// Why a link was not made (nothing was written, the log entry of a refusal aside).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkAccountError {
    /// The integration could not be chosen.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The gateway could not be opened.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// No such account.
    #[error("account {0} not found")]
    AccountNotFound(AccountId),
    /// The customer number is not well formed for the ERP.
    #[error("{fields}")]
    Invalid {
        /// The integration.
        integration: IntegrationName,
        /// The refused fields (`customer_no`).
        fields: InvalidFields,
    },
    /// The ERP has no customer with this key.
    #[error("the ERP has no customer {0}; nothing was linked")]
    CustomerNotFound(ExternalUid),
    /// The ERP customer's CRM-id field names another account.
    #[error(
        "ERP customer {external_uid} carries CRM id {crm_id} in its CRM-id field: it belongs to another account; nothing was linked"
    )]
    Claimed {
        /// The customer.
        external_uid: ExternalUid,
        /// What its CRM-id field holds.
        crm_id: String,
    },
    /// The customer could not be read.
    #[error("could not read the customer from the ERP: {0}; nothing was linked")]
    Lookup(ErpReadError),
    /// The store refused (a binding or a promotion in progress) or failed.
    #[error(transparent)]
    Link(#[from] LinkError),
}

impl ErrorCode for LinkAccountError {
    fn code(&self) -> &'static str {
        match self {
            Self::Resolve(e) => e.code(),
            Self::Gateway(e) => e.code(),
            Self::AccountNotFound(_) => "account_not_found",
            Self::Invalid { .. } => "invalid_input",
            Self::CustomerNotFound(_) => "customer_not_found",
            Self::Claimed { .. } => "customer_bound",
            Self::Lookup(e) => e.code(),
            Self::Link(e) => e.code(),
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::Resolve(e) => e.class(),
            Self::Gateway(e) => e.class(),
            Self::AccountNotFound(_) | Self::CustomerNotFound(_) => ErrorClass::NotFound,
            Self::Invalid { .. } => ErrorClass::Invalid,
            Self::Claimed { .. } => ErrorClass::Conflict,
            Self::Lookup(e) => e.class(),
            Self::Link(e) => e.class(),
        }
    }
}

/// What happened to the CRM-id field of a linked customer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrmIdWrite {
    /// The integration has no CRM-id field.
    NotConfigured,
    /// It already held the account id.
    AlreadySet,
    /// The account id was written.
    Written,
    /// The write failed; the binding stands, and linking again retries the write.
    Failed(ErpWriteError),
}

impl CrmIdWrite {
    /// `not_configured`, `already_set`, `written`, `failed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NotConfigured => "not_configured",
            Self::AlreadySet => "already_set",
            Self::Written => "written",
            Self::Failed(_) => "failed",
        }
    }
}

/// A link made (or found already made).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Linked {
    /// The integration.
    pub integration: Integration,
    /// The binding.
    pub binding: Binding,
    /// Whether the account was linked to this customer already (nothing new was written).
    pub already: bool,
    /// What became of the CRM-id field.
    pub crm_id: CrmIdWrite,
}

/// Why an unlink did not happen; nothing was written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum UnlinkAccountError {
    /// The integration could not be chosen.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// No such account.
    #[error("account {0} not found")]
    AccountNotFound(AccountId),
    /// Not bound, or the store failed.
    #[error(transparent)]
    Unlink(#[from] UnlinkError),
}

impl ErrorCode for UnlinkAccountError {
    fn code(&self) -> &'static str {
        match self {
            Self::Resolve(e) => e.code(),
            Self::AccountNotFound(_) => "account_not_found",
            Self::Unlink(e) => e.code(),
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::Resolve(e) => e.class(),
            Self::AccountNotFound(_) => ErrorClass::NotFound,
            Self::Unlink(e) => e.class(),
        }
    }
}

/// The ERP key `raw` names in `integration`: the number, and on Sage 100 `DD-NNNN` or `NNNN`
/// (the integration's default division).
///
/// # Errors
/// [`InvalidFields`] naming `customer_no`.
pub(crate) fn parse_customer_key(
    integration: &Integration,
    raw: &str,
) -> Result<ErpCustomerKey, InvalidFields> {
    let bad = |rule: String| InvalidFields::single(InvalidField::new("customer_no", rule));
    match integration.settings() {
        IntegrationSettings::Sage300 => Ok(ErpCustomerKey {
            division: None,
            customer_no: CustomerNo::parse(integration.kind(), raw)
                .map_err(|e| bad(e.to_string()))?,
        }),
        IntegrationSettings::Sage100 {
            default_division, ..
        } => {
            let raw = raw.trim();
            let (division, number) = match raw.split_once('-') {
                Some((d, n)) => (ArDivision::parse(d).map_err(|e| bad(e.to_string()))?, n),
                None => (*default_division, raw),
            };
            Ok(ErpCustomerKey {
                division: Some(division),
                customer_no: CustomerNo::parse(integration.kind(), number)
                    .map_err(|e| bad(e.to_string()))?,
            })
        }
    }
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Links `account` to the ERP customer `customer_no` (on Sage 100 `DD-NNNN`, or `NNNN` in
    /// the default division) in `integration` (the default when `None`): reads the customer
    /// live, writes the binding (origin [`BindingOrigin::Linked`]) with a `linked` log entry,
    /// then writes the account id into the integration's CRM-id field when it has one and the
    /// customer does not hold it yet. Linking an account to the customer it is already bound
    /// to writes nothing new (it retries the CRM-id write if needed).
    ///
    /// Dropping the future before the binding is written leaves nothing; after it, the
    /// binding stands and the CRM-id write may or may not have been sent (linking again
    /// finishes it).
    ///
    /// # Errors
    /// [`LinkAccountError`]: `CustomerNotFound` (absent in the ERP), `Link(CustomerBound)` or
    /// `Claimed` (another account's), `Link(AccountBound)` (bound to another customer),
    /// `Link(InProgress)`; a failed CRM-id write is not an error but [`CrmIdWrite::Failed`].
    pub async fn link(
        &self,
        account: AccountId,
        customer_no: &str,
        integration: Option<&str>,
    ) -> Result<Linked, LinkAccountError> {
        let started = Instant::now();
        let integration = self.resolve_integration(integration).await?;
        let found = self
            .store
            .account(account)
            .await
            .map_err(LinkError::Store)?;
        if found.is_none() {
            return Err(LinkAccountError::AccountNotFound(account));
        }
        let key = parse_customer_key(&integration, customer_no).map_err(|fields| {
            LinkAccountError::Invalid {
                integration: integration.name().clone(),
                fields,
            }
        })?;
        let uid = key.external_uid();
        let gateway = self.gateway(&integration).await?;
        let customer = gateway
            .find_customer(&key)
            .await
            .map_err(LinkAccountError::Lookup)?
            .ok_or_else(|| LinkAccountError::CustomerNotFound(uid.clone()))?;
        let own_id = account.to_string();
        let field = integration.crm_id_field();
        let held = field.and_then(|f| customer.crm_id(f)).map(str::trim);
        if let Some(other) = held.filter(|h| !h.is_empty() && *h != own_id) {
            let error = LinkAccountError::Claimed {
                external_uid: uid,
                crm_id: other.to_owned(),
            };
            self.link_refused(account, &integration, &key, started, &error)
                .await;
            return Err(error);
        }
        let existing = self
            .store
            .bindings_of(account)
            .await
            .map_err(LinkError::Store)?
            .into_iter()
            .find(|b| b.integration == integration.id());
        let (binding, already) = match existing {
            Some(b) if b.external_uid == uid => (b, true),
            Some(b) => {
                let error = LinkAccountError::Link(LinkError::AccountBound(Box::new(b)));
                self.link_refused(account, &integration, &key, started, &error)
                    .await;
                return Err(error);
            }
            None => {
                let binding = Binding {
                    account,
                    integration: integration.id(),
                    customer_no: key.customer_no.clone(),
                    integration_key: IntegrationKey::new(integration.id(), &uid),
                    external_uid: uid.clone(),
                    promoted_at: self.clock.now(),
                    origin: BindingOrigin::Linked,
                    erp_record: customer.record.headline(),
                };
                let log = self.entry(
                    Audit::new(account, LogEvent::Linked, link_summary(&key), started)
                        .integration(integration.id())
                        .message(Some(
                            "linked to an existing ERP customer (not created)".into(),
                        )),
                );
                if let Err(e) = self.store.link(&binding, &log).await {
                    let error = LinkAccountError::Link(e);
                    self.link_refused(account, &integration, &key, started, &error)
                        .await;
                    return Err(error);
                }
                (binding, false)
            }
        };
        let crm_id = match field {
            None => CrmIdWrite::NotConfigured,
            Some(_) if held == Some(own_id.as_str()) => CrmIdWrite::AlreadySet,
            Some(f) => match gateway.set_crm_id(&key, f, &own_id).await {
                Ok(()) => CrmIdWrite::Written,
                Err(e) => CrmIdWrite::Failed(e),
            },
        };
        Ok(Linked {
            integration,
            binding,
            already,
            crm_id,
        })
    }

    /// Removes `account`'s binding in `integration` (the default when `None`) and returns it;
    /// the log keeps an `unlinked` entry, a promotion it came from turns `unlinked`, and the
    /// ERP customer is not touched. The account may then be promoted or linked again.
    ///
    /// Dropping the future leaves the binding as it was or removed, never half.
    ///
    /// # Errors
    /// [`UnlinkAccountError`]: `Unlink(NotBound)` when the account has no binding there.
    pub async fn unlink(
        &self,
        account: AccountId,
        integration: Option<&str>,
    ) -> Result<(Integration, Binding), UnlinkAccountError> {
        let started = Instant::now();
        let integration = self.resolve_integration(integration).await?;
        let found = self
            .store
            .account(account)
            .await
            .map_err(UnlinkError::Store)?;
        if found.is_none() {
            return Err(UnlinkAccountError::AccountNotFound(account));
        }
        let log = self.entry(
            Audit::new(account, LogEvent::Unlinked, String::new(), started)
                .integration(integration.id())
                .message(Some(
                    "binding removed; the ERP customer was left as it is".into(),
                )),
        );
        let binding = self
            .store
            .unlink(account, integration.id(), self.clock.now(), &log)
            .await?;
        Ok((integration, binding))
    }

    async fn link_refused(
        &self,
        account: AccountId,
        integration: &Integration,
        key: &ErpCustomerKey,
        started: Instant,
        error: &LinkAccountError,
    ) {
        self.log(
            Audit::new(account, LogEvent::Refused, link_summary(key), started)
                .integration(integration.id())
                .message(Some(format!("link: {error}"))),
        )
        .await;
    }
}

fn link_summary(key: &ErpCustomerKey) -> String {
    format!("link customer_no={}", key.external_uid())
}

impl From<StoreError> for LinkAccountError {
    fn from(e: StoreError) -> Self {
        Self::Link(LinkError::Store(e))
    }
}
