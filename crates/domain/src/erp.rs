//! The two ERPs, the reference kinds, which kinds each ERP requires before a promotion, and the
//! field lengths each ERP accepts. All of it is data, so the rules can be read in one place.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// Which ERP an integration talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErpKind {
    /// Sage 300 through its Web API (OData JSON).
    Sage300,
    /// Sage 100 through SData (Atom XML).
    Sage100,
}

impl ErpKind {
    /// Every kind, in display order.
    pub const ALL: [ErpKind; 2] = [ErpKind::Sage300, ErpKind::Sage100];

    /// The spelling users type: `sage300` or `sage100`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErpKind::Sage300 => "sage300",
            ErpKind::Sage100 => "sage100",
        }
    }

    /// The product name for messages: `Sage 300` or `Sage 100`.
    pub fn display_name(self) -> &'static str {
        match self {
            ErpKind::Sage300 => "Sage 300",
            ErpKind::Sage100 => "Sage 100",
        }
    }
}

impl fmt::Display for ErpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// Why an ERP kind was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an ERP kind: use sage300 or sage100")]
pub struct ErpKindError(String);
crate::error_class::one_code!(ErpKindError => "invalid_input", Invalid);

impl FromStr for ErpKind {
    type Err = ErpKindError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sage300" => Ok(ErpKind::Sage300),
            "sage100" => Ok(ErpKind::Sage100),
            _ => Err(ErpKindError(s.to_owned())),
        }
    }
}

/// A kind of reference data synced from the ERP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReferenceKind {
    /// Sage 300 customer groups; Sage 100 customer types.
    Category,
    /// Currencies (Sage 300).
    Currency,
    /// Check languages (Sage 300).
    Language,
    /// Payment terms.
    Terms,
    /// Sage 300 tax groups (Sales rows); Sage 100 sales tax schedules.
    Tax,
    /// AR divisions (Sage 100).
    Division,
    /// Salespersons (Sage 100).
    Salesperson,
    /// Ship methods (Sage 100, when the server has the table).
    ShipMethod,
}

impl ReferenceKind {
    /// Every kind, in the order the spec lists them.
    pub const ALL: [ReferenceKind; 8] = [
        ReferenceKind::Category,
        ReferenceKind::Currency,
        ReferenceKind::Language,
        ReferenceKind::Terms,
        ReferenceKind::Tax,
        ReferenceKind::Division,
        ReferenceKind::Salesperson,
        ReferenceKind::ShipMethod,
    ];

    /// The spelling users type and read: `category`, `currency`, `language`, `terms`, `tax`,
    /// `division`, `salesperson`, `ship-method`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReferenceKind::Category => "category",
            ReferenceKind::Currency => "currency",
            ReferenceKind::Language => "language",
            ReferenceKind::Terms => "terms",
            ReferenceKind::Tax => "tax",
            ReferenceKind::Division => "division",
            ReferenceKind::Salesperson => "salesperson",
            ReferenceKind::ShipMethod => "ship-method",
        }
    }
}

impl fmt::Display for ReferenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a reference kind was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a reference kind: use category, currency, language, terms, tax, division, salesperson or ship-method"
)]
pub struct ReferenceKindError(String);
crate::error_class::one_code!(ReferenceKindError => "invalid_input", Invalid);

impl FromStr for ReferenceKind {
    type Err = ReferenceKindError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        ReferenceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted)
            .ok_or_else(|| ReferenceKindError(s.to_owned()))
    }
}

/// Whether an ERP must have a kind synced before a promotion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindRequirement {
    /// At least one successful sync run is needed before promoting.
    Required,
    /// Synced when the ERP offers it; never blocks a promotion.
    Optional,
}

const SAGE300_KINDS: [(ReferenceKind, KindRequirement); 5] = [
    (ReferenceKind::Category, KindRequirement::Required),
    (ReferenceKind::Currency, KindRequirement::Required),
    (ReferenceKind::Language, KindRequirement::Required),
    (ReferenceKind::Terms, KindRequirement::Required),
    (ReferenceKind::Tax, KindRequirement::Required),
];

const SAGE100_KINDS: [(ReferenceKind, KindRequirement); 6] = [
    (ReferenceKind::Category, KindRequirement::Optional),
    (ReferenceKind::Terms, KindRequirement::Required),
    (ReferenceKind::Tax, KindRequirement::Required),
    (ReferenceKind::Division, KindRequirement::Required),
    (ReferenceKind::Salesperson, KindRequirement::Required),
    (ReferenceKind::ShipMethod, KindRequirement::Optional),
];

/// The prerequisite table: every kind `erp` offers, in sync order, with whether a promotion
/// requires it. Kinds not listed do not exist for that ERP.
///
/// ```
/// # use crm2sage_domain::{prerequisite_table, ErpKind, KindRequirement, ReferenceKind};
/// let sage100 = prerequisite_table(ErpKind::Sage100);
/// assert!(sage100.contains(&(ReferenceKind::Division, KindRequirement::Required)));
/// assert!(!sage100.iter().any(|(k, _)| *k == ReferenceKind::Currency));
/// ```
pub fn prerequisite_table(erp: ErpKind) -> &'static [(ReferenceKind, KindRequirement)] {
    match erp {
        ErpKind::Sage300 => &SAGE300_KINDS,
        ErpKind::Sage100 => &SAGE100_KINDS,
    }
}

/// The required kinds of `erp` that are not in `synced` (kinds with at least one successful
/// sync run), in table order. Empty means the prerequisites are met.
pub fn missing_prerequisites(erp: ErpKind, synced: &BTreeSet<ReferenceKind>) -> Vec<ReferenceKind> {
    prerequisite_table(erp)
        .iter()
        .filter(|(kind, req)| *req == KindRequirement::Required && !synced.contains(kind))
        .map(|(kind, _)| *kind)
        .collect()
}

/// A customer field a promotion writes and an ERP bounds in length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CustomerField {
    /// Customer name.
    Name,
    /// Billing address line 1, 2 or 3.
    BillingLine(u8),
    /// City.
    City,
    /// State or province.
    State,
    /// Postal code.
    PostalCode,
    /// Telephone number.
    Phone,
    /// Email address.
    Email,
    /// Website.
    Website,
}

impl CustomerField {
    /// The input field a refusal names (`name`, `billing.line1`, `billing.city`, …).
    pub fn input_name(self) -> String {
        match self {
            Self::Name => "name".into(),
            Self::BillingLine(n) => format!("billing.line{n}"),
            Self::City => "billing.city".into(),
            Self::State => "billing.state".into(),
            Self::PostalCode => "billing.postal_code".into(),
            Self::Phone => "phone".into(),
            Self::Email => "email".into(),
            Self::Website => "website".into(),
        }
    }
}

/// The longest value an ERP accepts for one customer field, under the ERP's own name for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldLimit {
    /// The field.
    pub field: CustomerField,
    /// The ERP's name for the field, as a refusal shows it.
    pub erp_name: String,
    /// The longest value accepted, in characters.
    pub max: usize,
}

/// The longest value the ERP accepts for each customer field a promotion writes, in the order
/// a refusal lists them. A value that does not fit is refused before anything is written, never
/// cut. Built by the ERP's adapter (each ERP knows its own fields); a field not listed is not
/// bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldLimits(Vec<FieldLimit>);

impl FieldLimits {
    /// Limits from a list, kept in its order.
    pub fn new(limits: Vec<FieldLimit>) -> Self {
        Self(limits)
    }

    /// Every limit, in order.
    pub fn iter(&self) -> impl Iterator<Item = &FieldLimit> {
        self.0.iter()
    }

    /// The limit of `field`, if the ERP bounds it.
    pub fn get(&self, field: CustomerField) -> Option<&FieldLimit> {
        self.0.iter().find(|l| l.field == field)
    }

    /// The longest value of `field`, if the ERP bounds it.
    pub fn max(&self, field: CustomerField) -> Option<usize> {
        self.get(field).map(|l| l.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_spelled_as_the_spec_says_and_round_trip() {
        let spelled: Vec<_> = ReferenceKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            spelled,
            [
                "category",
                "currency",
                "language",
                "terms",
                "tax",
                "division",
                "salesperson",
                "ship-method"
            ]
        );
        for kind in ReferenceKind::ALL {
            assert_eq!(kind.as_str().parse::<ReferenceKind>(), Ok(kind));
        }
        assert!("ship_method".parse::<ReferenceKind>().is_err());
        assert_eq!("SAGE300".parse::<ErpKind>(), Ok(ErpKind::Sage300));
        assert!("sage200".parse::<ErpKind>().is_err());
    }

    #[test]
    fn sage300_requires_five_kinds_and_sage100_four() {
        let required = |erp| missing_prerequisites(erp, &BTreeSet::new());
        assert_eq!(
            required(ErpKind::Sage300),
            [
                ReferenceKind::Category,
                ReferenceKind::Currency,
                ReferenceKind::Language,
                ReferenceKind::Terms,
                ReferenceKind::Tax
            ]
        );
        assert_eq!(
            required(ErpKind::Sage100),
            [
                ReferenceKind::Terms,
                ReferenceKind::Tax,
                ReferenceKind::Division,
                ReferenceKind::Salesperson
            ]
        );
    }

    #[test]
    fn synced_kinds_are_not_missing_and_optional_kinds_never_are() {
        let synced: BTreeSet<_> = [ReferenceKind::Terms, ReferenceKind::Division].into();
        assert_eq!(
            missing_prerequisites(ErpKind::Sage100, &synced),
            [ReferenceKind::Tax, ReferenceKind::Salesperson]
        );
        let all: BTreeSet<_> = [
            ReferenceKind::Terms,
            ReferenceKind::Tax,
            ReferenceKind::Division,
            ReferenceKind::Salesperson,
        ]
        .into();
        assert!(missing_prerequisites(ErpKind::Sage100, &all).is_empty());
    }

    #[test]
    fn limits_are_found_by_field_and_name_the_input() {
        let limits = FieldLimits::new(vec![FieldLimit {
            field: CustomerField::City,
            erp_name: "town".into(),
            max: 20,
        }]);
        assert_eq!(limits.max(CustomerField::City), Some(20));
        assert_eq!(limits.max(CustomerField::Name), None);
        assert_eq!(CustomerField::BillingLine(2).input_name(), "billing.line2");
    }
}
