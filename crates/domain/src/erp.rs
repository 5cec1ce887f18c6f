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

/// The longest value the ERP accepts for each customer field a promotion writes. A value that
/// does not fit is refused before anything is written, never cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldLimits {
    /// Customer name.
    pub customer_name: usize,
    /// Each address line.
    pub address_line: usize,
    /// City.
    pub city: usize,
    /// State or province.
    pub state: usize,
    /// Postal code.
    pub postal_code: usize,
    /// Telephone number.
    pub phone: usize,
    /// Email address.
    pub email: usize,
    /// Website.
    pub website: usize,
}

impl FieldLimits {
    /// Sage 300 `ARCUS` (AOM): `CustomerName` 60, `AddressLine1..4` 60, `City` 30,
    /// `StateProvince` 30, `ZipPostalCode` 20, `PhoneNumber` 30, `Email` 50, `WebSite` 100.
    pub const SAGE300: FieldLimits = FieldLimits {
        customer_name: 60,
        address_line: 60,
        city: 30,
        state: 30,
        postal_code: 20,
        phone: 30,
        email: 50,
        website: 100,
    };

    /// Sage 100 `AR_Customer` (4.40–2018 layout): `CustomerName` 30 (or 50 from 2022, see
    /// [`CustomerNameMax`](crate::CustomerNameMax)), `AddressLine1..3` 30, `City` 20, `State` 2,
    /// `ZipCode` 10, `TelephoneNo` 17, `EmailAddress` 250, `URLAddress` 50.
    pub const fn sage100(customer_name: usize) -> FieldLimits {
        FieldLimits {
            customer_name,
            address_line: 30,
            city: 20,
            state: 2,
            postal_code: 10,
            phone: 17,
            email: 250,
            website: 50,
        }
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
    fn limits_follow_the_reference() {
        assert_eq!(FieldLimits::SAGE300.customer_name, 60);
        assert_eq!(FieldLimits::SAGE300.city, 30);
        let s100 = FieldLimits::sage100(30);
        assert_eq!((s100.address_line, s100.city, s100.state), (30, 20, 2));
        assert_eq!(FieldLimits::sage100(50).customer_name, 50);
    }
}
