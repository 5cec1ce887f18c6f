//! Building the ERP customer a promotion creates from the account and the request, and
//! checking it first: every code against the synced data, every field against the ERP's
//! lengths.

use crate::account::Account;
use crate::codes::ReferenceCode;
use crate::erp::{CustomerField, FieldLimits, ReferenceKind};
use crate::field::{Collector, InvalidField, InvalidFields};
use crate::ids::IntegrationId;
use crate::integration::{Integration, IntegrationName};
use crate::ports::{ErpConnector, ErpCustomerKey, NewErpCustomer, Store, StoreError};
use crate::promotion::ErpRequest;

use super::Services;

/// Why the ERP customer could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum CustomerError {
    /// A code or a field length broke a rule; every one is listed.
    #[error("cannot promote into {integration}: {fields}")]
    Invalid {
        /// The integration.
        integration: IntegrationName,
        /// Every refused field.
        fields: InvalidFields,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Checks every code against the synced data and every field against the ERP's lengths,
    /// then builds the ERP-neutral customer.
    pub(crate) async fn build_customer(
        &self,
        account: &Account,
        integration: &Integration,
        request: &ErpRequest,
        limits: &FieldLimits,
    ) -> Result<NewErpCustomer, CustomerError> {
        let mut c = Collector::default();
        let d = account.details();
        let id = integration.id();
        let code_of = |raw: &str| ReferenceCode::parse(raw).ok();
        let customer = match request {
            ErpRequest::Sage300(r) => {
                // Terms: as asked, else the account's, else the group's default (Sage fills it).
                let asked_terms = match (&r.terms, d.terms()) {
                    (Some(t), _) => Some((t.clone(), "terms")),
                    (None, Some(t)) => Some((t.clone(), "account.terms")),
                    (None, None) => None,
                };
                let mut checks = vec![
                    (
                        ReferenceKind::Category,
                        "category",
                        Some(r.category.clone()),
                    ),
                    (ReferenceKind::Tax, "tax_group", Some(r.tax_group.clone())),
                    (
                        ReferenceKind::Terms,
                        asked_terms.as_ref().map_or("terms", |t| t.1),
                        asked_terms.as_ref().map(|t| t.0.clone()),
                    ),
                    (
                        ReferenceKind::Currency,
                        "account.currency",
                        d.currency().and_then(|c| code_of(c.as_str())),
                    ),
                    (
                        ReferenceKind::Language,
                        "account.language",
                        d.language().cloned(),
                    ),
                ];
                let found = self.check_codes(&mut c, id, &checks).await?;
                if asked_terms.is_none() {
                    let group_terms = found
                        .first()
                        .cloned()
                        .flatten()
                        .and_then(|g| g.extras.default_terms);
                    checks = vec![(ReferenceKind::Terms, "category.default_terms", group_terms)];
                    self.check_codes(&mut c, id, &checks).await?;
                }
                NewErpCustomer {
                    currency: d.currency().cloned(),
                    language: d.language().cloned(),
                    category: Some(r.category.clone()),
                    tax: Some(r.tax_group.clone()),
                    terms: r.terms.clone().or_else(|| d.terms().cloned()),
                    salesperson: None,
                    ship_method: None,
                    ..base_customer(account, integration, request.key())
                }
            }
            ErpRequest::Sage100(r) => {
                let checks = [
                    (
                        ReferenceKind::Division,
                        "division",
                        code_of(r.division.as_str()),
                    ),
                    (
                        ReferenceKind::Salesperson,
                        "salesperson",
                        code_of(&r.salesperson.to_string()),
                    ),
                    (
                        ReferenceKind::Tax,
                        "tax_schedule",
                        Some(r.tax_schedule.clone()),
                    ),
                    (ReferenceKind::Terms, "terms", r.terms.clone()),
                    (
                        ReferenceKind::ShipMethod,
                        "ship_method",
                        r.ship_method.clone(),
                    ),
                    (ReferenceKind::Category, "category", r.category.clone()),
                ];
                self.check_codes(&mut c, id, &checks).await?;
                NewErpCustomer {
                    currency: None,
                    language: None,
                    category: r.category.clone(),
                    tax: Some(r.tax_schedule.clone()),
                    terms: r.terms.clone(),
                    salesperson: Some(r.salesperson.clone()),
                    ship_method: r.ship_method.clone(),
                    ..base_customer(account, integration, request.key())
                }
            }
        };
        check_lengths(&mut c, &customer, limits, integration);
        c.finish().map_err(|fields| CustomerError::Invalid {
            integration: integration.name().clone(),
            fields,
        })?;
        Ok(customer)
    }

    /// Looks every named code up in the synced data in one read and records each one that is
    /// unknown or inactive under its field. Returns the records found, in `checks` order
    /// (`None` for an absent code or a check with no code).
    async fn check_codes(
        &self,
        c: &mut Collector,
        integration: IntegrationId,
        checks: &[(ReferenceKind, &str, Option<ReferenceCode>)],
    ) -> Result<Vec<Option<crate::reference::ReferenceRecord>>, StoreError> {
        let wanted: Vec<(ReferenceKind, ReferenceCode)> = checks
            .iter()
            .filter_map(|(kind, _, code)| code.clone().map(|code| (*kind, code)))
            .collect();
        let mut found = self
            .store
            .reference_records_by_code(integration, &wanted)
            .await?
            .into_iter();
        let mut out = Vec::with_capacity(checks.len());
        for (kind, field, code) in checks {
            let Some(code) = code else {
                out.push(None);
                continue;
            };
            let record = found.next().flatten();
            match &record {
                None => c.push(InvalidField::new(
                    *field,
                    format!("`{code}` is not a known {kind} code in the synced data (sync again if it was added in the ERP recently)"),
                )),
                Some(r) if !r.active => {
                    c.push(InvalidField::new(*field, format!("{kind} `{code}` is inactive in the ERP")));
                }
                Some(_) => {}
            }
            out.push(record);
        }
        Ok(out)
    }
}

/// The account's name, billing address and contact details, as the ERP will receive them.
fn base_customer(
    account: &Account,
    integration: &Integration,
    key: ErpCustomerKey,
) -> NewErpCustomer {
    let d = account.details();
    let a = d.billing();
    NewErpCustomer {
        key,
        name: d.name().as_str().to_owned(),
        address_lines: [
            Some(a.line1().to_owned()),
            a.line2().map(str::to_owned),
            a.line3().map(str::to_owned),
        ],
        city: Some(a.city().to_owned()),
        state: a.state().map(str::to_owned),
        postal_code: a.postal_code().map(str::to_owned),
        country: Some(a.country()),
        phone: d.phone().map(|p| p.as_str().to_owned()),
        email: d.email().map(|e| e.as_str().to_owned()),
        website: d.website().map(|w| w.as_str().to_owned()),
        currency: None,
        language: None,
        category: None,
        tax: None,
        terms: None,
        salesperson: None,
        ship_method: None,
        crm_id: integration
            .crm_id_field()
            .map(|f| (f.clone(), account.id().to_string())),
    }
}

fn check_lengths(
    c: &mut Collector,
    customer: &NewErpCustomer,
    limits: &FieldLimits,
    integration: &Integration,
) {
    let erp = integration.kind();
    for limit in limits.iter() {
        let value = match limit.field {
            CustomerField::Name => Some(customer.name.as_str()),
            CustomerField::BillingLine(n) => usize::from(n)
                .checked_sub(1)
                .and_then(|i| customer.address_lines.get(i))
                .and_then(Option::as_deref),
            CustomerField::City => customer.city.as_deref(),
            CustomerField::State => customer.state.as_deref(),
            CustomerField::PostalCode => customer.postal_code.as_deref(),
            CustomerField::Phone => customer.phone.as_deref(),
            CustomerField::Email => customer.email.as_deref(),
            CustomerField::Website => customer.website.as_deref(),
        };
        let Some(value) = value else { continue };
        let len = value.chars().count();
        let (max, erp_field) = (limit.max, &limit.erp_name);
        if len > max {
            c.push(InvalidField::new(
                limit.field.input_name(),
                format!("is {len} characters; {erp} allows at most {max} for {erp_field} (shorten it; it is never cut silently)"),
            ));
        }
    }
}
