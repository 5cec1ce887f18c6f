//! Promotions: the request a user makes, its per-ERP parsed form, the promotion's states and
//! lease, and the binding a successful promotion leaves on the account.

use std::fmt;

use crate::codes::{ArDivision, CustomerNo, ReferenceCode, SalespersonRef};
use crate::erp::ErpKind;
use crate::field::{Collector, InvalidField, InvalidFields, TextError};
use crate::ids::{AccountId, IntegrationId, PromotionId};
use crate::integration::{Integration, IntegrationSettings};
use crate::ports::ErpCustomerKey;
use crate::record::ErpRecord;
use jiff::Timestamp;

/// A promotion as requested (the `promote` command's flags, or a batch row): raw text, parsed
/// per ERP by [`PromotionRequest::parse_for`] once the integration is known.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PromotionRequest {
    /// The account to promote.
    pub account: AccountId,
    /// The integration's name; the default integration when `None`.
    pub integration: Option<String>,
    /// The ERP customer number to create.
    pub customer_no: String,
    /// Sage 300 customer group (required) / Sage 100 customer type (optional).
    pub category: Option<String>,
    /// Sage 300 tax group (required).
    pub tax_group: Option<String>,
    /// Payment terms (optional; Sage 300 falls back to the account's, then the group's).
    pub terms: Option<String>,
    /// Sage 100 AR division (the integration's default otherwise).
    pub division: Option<String>,
    /// Sage 100 salesperson, `DD-NNNN` or `NNNN` (required).
    pub salesperson: Option<String>,
    /// Sage 100 ship method (optional).
    pub ship_method: Option<String>,
    /// Sage 100 tax schedule (required).
    pub tax_schedule: Option<String>,
    /// Skip the duplicate guard: create the customer even if the ERP may already have the
    /// account (no lookup is made; the intent's log entry says it was allowed). A dry run still
    /// looks, and reports what it found instead of refusing.
    pub allow_duplicate: bool,
    /// Check everything and build the payload, but record and send nothing
    /// ([`Services::promote_dry_run`](crate::services::Services::promote_dry_run); a batch
    /// row with it set reports [`RowOutcome::WouldPromote`](crate::services::RowOutcome)).
    pub dry_run: bool,
}

impl PromotionRequest {
    /// A request for `account` with `customer_no` and nothing else chosen.
    pub fn new(account: AccountId, customer_no: impl Into<String>) -> Self {
        Self {
            account,
            integration: None,
            customer_no: customer_no.into(),
            category: None,
            tax_group: None,
            terms: None,
            division: None,
            salesperson: None,
            ship_method: None,
            tax_schedule: None,
            allow_duplicate: false,
            dry_run: false,
        }
    }

    /// Parses the request by the rules of `integration`'s ERP, reporting every refused field at
    /// once (field names as the flags: `customer_no`, `category`, `tax_group`, `terms`,
    /// `division`, `salesperson`, `ship_method`, `tax_schedule`). A flag that does not apply to
    /// the ERP is refused rather than ignored.
    ///
    /// # Errors
    /// [`InvalidFields`] listing each refused field.
    pub fn parse_for(&self, integration: &Integration) -> Result<ErpRequest, InvalidFields> {
        let mut c = Collector::default();
        let kind = integration.kind();
        let customer_no = c.take("customer_no", CustomerNo::parse(kind, &self.customer_no));
        let code = |c: &mut Collector,
                    field: &str,
                    raw: &Option<String>|
         -> Option<Option<ReferenceCode>> {
            match raw.as_deref().map(str::trim) {
                None | Some("") => Some(None),
                Some(value) => c.take(field, ReferenceCode::parse(value)).map(Some),
            }
        };
        let required =
            |c: &mut Collector, field: &str, value: Option<Option<ReferenceCode>>| match value {
                Some(Some(v)) => Some(v),
                Some(None) => {
                    c.push(InvalidField::new(field, TextError::Empty));
                    None
                }
                None => None,
            };
        let not_for = |c: &mut Collector, field: &str, raw: &Option<String>, hint: &str| {
            if raw.as_deref().is_some_and(|v| !v.trim().is_empty()) {
                c.push(InvalidField::new(
                    field,
                    format!("does not apply to {kind} integrations{hint}"),
                ));
            }
        };
        match integration.settings() {
            IntegrationSettings::Sage300 => {
                let category = code(&mut c, "category", &self.category);
                let category = required(&mut c, "category", category);
                let tax_group = code(&mut c, "tax_group", &self.tax_group);
                let tax_group = required(&mut c, "tax_group", tax_group);
                let terms = code(&mut c, "terms", &self.terms);
                not_for(&mut c, "division", &self.division, "");
                not_for(&mut c, "salesperson", &self.salesperson, "");
                not_for(&mut c, "ship_method", &self.ship_method, "");
                not_for(
                    &mut c,
                    "tax_schedule",
                    &self.tax_schedule,
                    " (use tax_group instead)",
                );
                c.finish()?;
                match (customer_no, category, tax_group, terms) {
                    (Some(customer_no), Some(category), Some(tax_group), Some(terms)) => {
                        Ok(ErpRequest::Sage300(Sage300Request {
                            customer_no,
                            category,
                            tax_group,
                            terms,
                        }))
                    }
                    _ => Err(unreachable_invalid()),
                }
            }
            IntegrationSettings::Sage100 {
                default_division, ..
            } => {
                let division = match self.division.as_deref().map(str::trim) {
                    None | Some("") => Some(*default_division),
                    Some(raw) => c.take("division", ArDivision::parse(raw)),
                };
                let salesperson = match self.salesperson.as_deref().map(str::trim) {
                    None | Some("") => {
                        c.push(InvalidField::new("salesperson", TextError::Empty));
                        None
                    }
                    Some(raw) => c.take("salesperson", SalespersonRef::parse(raw)),
                };
                let tax_schedule = code(&mut c, "tax_schedule", &self.tax_schedule);
                let tax_schedule = required(&mut c, "tax_schedule", tax_schedule);
                let terms = code(&mut c, "terms", &self.terms);
                let ship_method = code(&mut c, "ship_method", &self.ship_method);
                let category = code(&mut c, "category", &self.category);
                not_for(
                    &mut c,
                    "tax_group",
                    &self.tax_group,
                    " (use tax_schedule instead)",
                );
                c.finish()?;
                match (
                    customer_no,
                    division,
                    salesperson,
                    tax_schedule,
                    terms,
                    ship_method,
                    category,
                ) {
                    (
                        Some(customer_no),
                        Some(division),
                        Some(salesperson),
                        Some(tax_schedule),
                        Some(terms),
                        Some(ship_method),
                        Some(category),
                    ) => Ok(ErpRequest::Sage100(Sage100Request {
                        customer_no,
                        salesperson: salesperson.resolve(division),
                        division,
                        tax_schedule,
                        terms,
                        ship_method,
                        category,
                    })),
                    _ => Err(unreachable_invalid()),
                }
            }
        }
    }
}

fn unreachable_invalid() -> InvalidFields {
    InvalidFields(vec![InvalidField::new("request", "is invalid")])
}

/// A Sage 300 promotion, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sage300Request {
    /// The customer number.
    pub customer_no: CustomerNo,
    /// Customer group.
    pub category: ReferenceCode,
    /// Tax group, a Sales one.
    pub tax_group: ReferenceCode,
    /// Terms; when `None`, the account's terms, then the group's default.
    pub terms: Option<ReferenceCode>,
}

/// A Sage 100 promotion, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sage100Request {
    /// The customer number.
    pub customer_no: CustomerNo,
    /// The AR division.
    pub division: ArDivision,
    /// The salesperson (its division resolved).
    pub salesperson: SalespersonRef,
    /// Tax schedule.
    pub tax_schedule: ReferenceCode,
    /// Terms.
    pub terms: Option<ReferenceCode>,
    /// Ship method.
    pub ship_method: Option<ReferenceCode>,
    /// Customer type.
    pub category: Option<ReferenceCode>,
}

/// A parsed promotion request, per ERP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErpRequest {
    /// Sage 300.
    Sage300(Sage300Request),
    /// Sage 100.
    Sage100(Sage100Request),
}

impl ErpRequest {
    /// The ERP kind.
    pub fn kind(&self) -> ErpKind {
        match self {
            ErpRequest::Sage300(_) => ErpKind::Sage300,
            ErpRequest::Sage100(_) => ErpKind::Sage100,
        }
    }

    /// The customer number.
    pub fn customer_no(&self) -> &CustomerNo {
        match self {
            ErpRequest::Sage300(r) => &r.customer_no,
            ErpRequest::Sage100(r) => &r.customer_no,
        }
    }

    /// The ERP key the customer is created (and looked up) under: the number, and for Sage 100
    /// the division. The only place a request becomes a key.
    pub fn key(&self) -> ErpCustomerKey {
        match self {
            ErpRequest::Sage300(r) => ErpCustomerKey {
                division: None,
                customer_no: r.customer_no.clone(),
            },
            ErpRequest::Sage100(r) => ErpCustomerKey {
                division: Some(r.division),
                customer_no: r.customer_no.clone(),
            },
        }
    }

    /// The External UID the customer will have: its [key](Self::key) as one string.
    pub fn external_uid(&self) -> ExternalUid {
        self.key().external_uid()
    }
}

/// Why an External UID was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an External UID")]
pub struct ExternalUidError(String);
crate::error_class::one_code!(ExternalUidError => "invalid_input", Invalid);

/// The ERP's own key of a customer as one string: Sage 300 the number; Sage 100 `DD-CUSTNO`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalUid(String);

impl ExternalUid {
    /// Sage 300: the customer number. Only [`ErpCustomerKey::external_uid`] builds one.
    pub(crate) fn sage300(customer_no: &CustomerNo) -> Self {
        Self(customer_no.as_str().to_owned())
    }

    /// Sage 100: division, `-`, customer number. Only [`ErpCustomerKey::external_uid`] builds
    /// one.
    pub(crate) fn sage100(division: ArDivision, customer_no: &CustomerNo) -> Self {
        Self(format!("{division}-{customer_no}"))
    }

    /// A ship-to's or contact's: its customer's UID, `/`, `ST:` or `CT:`, and its code
    /// (`CUST01/ST:WH1`, `01-ABC/CT:JANE`); at most 37 characters. Only
    /// [`ErpPartyKey::external_uid`](crate::ports::ErpPartyKey::external_uid) builds one.
    pub(crate) fn party(customer: &ExternalUid, code: &crate::PartyCode) -> Self {
        let tag = match code {
            crate::PartyCode::ShipTo(_) => "ST",
            crate::PartyCode::Contact(_) => "CT",
        };
        Self(format!("{customer}/{tag}:{}", code.as_str()))
    }

    /// Reads a stored External UID (non-empty, at most 40 characters, no control characters).
    ///
    /// # Errors
    /// [`ExternalUidError`].
    pub fn parse(raw: &str) -> Result<Self, ExternalUidError> {
        let ok = !raw.is_empty() && raw.chars().count() <= 40 && !raw.chars().any(char::is_control);
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ExternalUidError(raw.to_owned()))
        }
    }

    /// The UID.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExternalUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `{integration id}:{external uid}`: unique across integrations and stable when names change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IntegrationKey(String);

impl IntegrationKey {
    /// The key of `uid` in `integration`.
    pub fn new(integration: IntegrationId, uid: &ExternalUid) -> Self {
        Self(format!("{integration}:{uid}"))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IntegrationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a promotion stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PromotionState {
    /// Intent recorded; the ERP may or may not have the customer yet.
    Creating,
    /// The ERP customer exists and the binding is written.
    Promoted,
    /// Definitely not created (refused, number taken); the account may be promoted again.
    Failed,
    /// The ERP has a customer with this number that does not match the account; a person must
    /// look.
    NeedsReview,
    /// It was promoted, then `unlink` removed its binding; the ERP customer was left as it is.
    /// Not live: the account may be promoted or linked again.
    Unlinked,
}

impl PromotionState {
    /// `creating`, `promoted`, `failed`, `needs_review`, `unlinked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Promoted => "promoted",
            Self::Failed => "failed",
            Self::NeedsReview => "needs_review",
            Self::Unlinked => "unlinked",
        }
    }

    /// Parses [`PromotionState::as_str`]'s spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Creating,
            Self::Promoted,
            Self::Failed,
            Self::NeedsReview,
            Self::Unlinked,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }

    /// Whether the state blocks another promotion of the same account or External UID in the
    /// same integration (`creating`, `promoted`).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Creating | Self::Promoted)
    }
}

impl fmt::Display for PromotionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who holds an in-flight promotion: one promotion task of one process on one host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaseHolder {
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// The process's start time (seconds since the epoch, or the OS's start ticks), so a
    /// recycled pid is not mistaken for the holder.
    pub process_start: u64,
    /// The task within the process.
    pub task: u64,
}

impl fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/pid {}/task {}", self.host, self.pid, self.task)
    }
}

/// A lease on an in-flight promotion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The holder.
    pub holder: LeaseHolder,
    /// When it lapses unless renewed.
    pub expires_at: Timestamp,
}

/// One promotion attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Promotion {
    /// Identifier.
    pub id: PromotionId,
    /// Account promoted.
    pub account: AccountId,
    /// Integration promoted into.
    pub integration: IntegrationId,
    /// What was asked for, parsed.
    pub request: ErpRequest,
    /// The External UID the customer has (or will have).
    pub external_uid: ExternalUid,
    /// State.
    pub state: PromotionState,
    /// The lease while `creating`.
    pub lease: Option<Lease>,
    /// Why it failed or needs review.
    pub error: Option<String>,
    /// Created at.
    pub created_at: Timestamp,
    /// Updated at.
    pub updated_at: Timestamp,
}

/// How a binding came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BindingOrigin {
    /// A promotion created the ERP customer.
    Created,
    /// `link` bound the account to a customer the ERP already had.
    Linked,
}

impl BindingOrigin {
    /// `created` or `linked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Linked => "linked",
        }
    }

    /// Parses [`BindingOrigin::as_str`]'s spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Created, Self::Linked]
            .into_iter()
            .find(|o| o.as_str() == raw)
    }
}

impl fmt::Display for BindingOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a successful promotion (or a `link`) leaves on the account, per integration.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The account.
    pub account: AccountId,
    /// The integration.
    pub integration: IntegrationId,
    /// The ERP customer number.
    pub customer_no: CustomerNo,
    /// The ERP's key.
    pub external_uid: ExternalUid,
    /// `{integration id}:{external uid}`.
    pub integration_key: IntegrationKey,
    /// When it was promoted (or linked).
    pub promoted_at: Timestamp,
    /// Whether a promotion created the customer or `link` bound an existing one.
    pub origin: BindingOrigin,
    /// The headline of the ERP record as returned by the create (or the read-back): its
    /// labelled fields ([`ErpRecord::headline`]: number, name, status, balance, dates). The
    /// whole record is read live (`erp_details`); keeping all of it (some 150 fields, ~7 KB on
    /// Sage 300) was most of what a promotion wrote.
    pub erp_record: ErpRecord,
}

impl Binding {
    /// The ERP key of the bound customer: its number and, on Sage 100, the division its
    /// External UID (`DD-NNNN`) carries.
    pub fn customer_key(&self) -> ErpCustomerKey {
        let uid = self.external_uid.as_str();
        let division = uid
            .strip_suffix(self.customer_no.as_str())
            .and_then(|head| head.strip_suffix('-'))
            .filter(|d| !d.is_empty())
            .and_then(|d| ArDivision::parse(d).ok());
        ErpCustomerKey {
            division,
            customer_no: self.customer_no.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::HttpPolicy;
    use crate::integration::NewIntegration;

    fn integration(kind: &str) -> Integration {
        NewIntegration {
            name: "i".into(),
            kind: kind.into(),
            url: "https://erp.example.com/x".into(),
            company: "ABC".into(),
            user: "u".into(),
            password_env: "PW".into(),
            division: (kind == "sage100").then(|| "01".into()),
            http_policy: HttpPolicy::HttpsOnly,
            ..Default::default()
        }
        .validate(Timestamp::UNIX_EPOCH)
        .unwrap()
    }

    #[test]
    fn a_sage300_request_needs_group_and_tax_group() {
        let mut req = PromotionRequest::new(AccountId::generate(), " cust1 ");
        let err = req.parse_for(&integration("sage300")).unwrap_err();
        assert!(
            err.contains("category") && err.contains("tax_group"),
            "{err}"
        );
        req.category = Some("rtl".into());
        req.tax_group = Some("CALIF".into());
        let parsed = req.parse_for(&integration("sage300")).unwrap();
        assert_eq!(parsed.customer_no().as_str(), "CUST1");
        assert_eq!(parsed.external_uid().as_str(), "CUST1");
        assert_eq!(parsed.kind(), ErpKind::Sage300);
    }

    #[test]
    fn sage100_flags_are_refused_for_sage300_and_vice_versa() {
        let mut req = PromotionRequest::new(AccountId::generate(), "C1");
        req.category = Some("RTL".into());
        req.tax_group = Some("CALIF".into());
        req.salesperson = Some("0100".into());
        let err = req.parse_for(&integration("sage300")).unwrap_err();
        assert_eq!(err.fields().len(), 1);
        assert!(err.contains("salesperson"));
        let err = req.parse_for(&integration("sage100")).unwrap_err();
        assert!(
            err.contains("tax_group") && err.contains("tax_schedule"),
            "{err}"
        );
    }

    #[test]
    fn a_sage100_request_resolves_division_salesperson_and_uid() {
        let mut req = PromotionRequest::new(AccountId::generate(), "123");
        req.salesperson = Some("0100".into());
        req.tax_schedule = Some("WI MIL".into());
        let ErpRequest::Sage100(parsed) = req.parse_for(&integration("sage100")).unwrap() else {
            panic!("expected a Sage 100 request")
        };
        assert_eq!(parsed.customer_no.as_str(), "0000123");
        assert_eq!(parsed.division.as_str(), "01");
        assert_eq!(parsed.salesperson.to_string(), "01-0100");
        assert_eq!(
            ErpRequest::Sage100(parsed).external_uid().as_str(),
            "01-0000123"
        );
        req.division = Some("02".into());
        assert_eq!(
            req.parse_for(&integration("sage100"))
                .unwrap()
                .external_uid()
                .as_str(),
            "02-0000123"
        );
    }

    #[test]
    fn integration_keys_join_id_and_uid() {
        let id = IntegrationId::generate();
        let uid = ExternalUid::sage300(&CustomerNo::parse_sage300("c1").unwrap());
        assert_eq!(IntegrationKey::new(id, &uid).as_str(), format!("{id}:C1"));
    }

    #[test]
    fn live_states_are_creating_and_promoted() {
        for s in [
            PromotionState::Creating,
            PromotionState::Promoted,
            PromotionState::Failed,
            PromotionState::NeedsReview,
        ] {
            assert_eq!(PromotionState::parse(s.as_str()), Some(s));
        }
        assert!(PromotionState::Creating.is_live());
        assert!(PromotionState::Promoted.is_live());
        assert!(!PromotionState::Failed.is_live());
        assert!(!PromotionState::NeedsReview.is_live());
    }
}
