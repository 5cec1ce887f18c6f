//! Reference rows: the properties read, typed rows borrowed from the page, and each
//! kind's resource, code property and `$select`.

use std::borrow::Cow;
use std::marker::PhantomData;

use crm2sage_domain::ports::ErpReferenceRecord;
use crm2sage_domain::{ReferenceCode, ReferenceExtras, ReferenceKind};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::protocol;

/// The properties a reference row is read for, over every kind (the enum's variant is the
/// property's name on the wire).
macro_rules! props {
    ($($p:ident),* $(,)?) => {
        /// A property of a reference row that the adapter reads.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Prop {
            $($p),*
        }

        impl Prop {
            /// Every property, in declaration order.
            #[cfg(test)]
            const ALL: &[Prop] = &[$(Prop::$p),*];
            /// How many there are.
            const COUNT: usize = [$(Prop::$p),*].len();

            /// The property's name on the wire.
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(Prop::$p => stringify!($p)),*
                }
            }

            /// The property of that exact (case-sensitive) name, if the adapter reads it.
            fn from_name(name: &str) -> Option<Prop> {
                match name {
                    $(stringify!($p) => Some(Prop::$p),)*
                    _ => None,
                }
            }
        }
    };
}

props!(
    GroupCode,
    CurrencyCodeKey,
    CurrencyCode,
    TermsCode,
    TermsCodeKey,
    TaxGroupKey,
    Description,
    Status,
    InactiveDate,
    Terms,
    TaxGroup,
    TransactionType,
    AccountSet,
    BillingCycle,
    InterestProfile,
    AccountType,
    RateType,
    Symbol,
    DecimalPlaces,
    DueDateType,
    UsePaymentSchedule,
    NumberOfPayments,
    TaxReportingCurrency,
    TaxCalculationMethod,
);

/// A JSON value as a reference row holds it: strings borrowed from the page when they have no
/// escapes, numbers as `serde_json` reads them (so they print as before), anything else
/// (`null`, arrays, objects) as [`Scalar::Other`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar<'a> {
    Text(Cow<'a, str>),
    Number(serde_json::Number),
    Bool(bool),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar::Number(v.into()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                // As `serde_json::Value` does: a non-finite float (never in JSON) is no number.
                Ok(serde_json::Number::from_f64(v).map_or(Scalar::Other, Scalar::Number))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A property name: the [`Prop`] it is, `None` for one the adapter does not read (its value is
/// skipped unread).
struct PropKey(Option<Prop>);

impl<'de> Deserialize<'de> for PropKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PropKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a property name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(PropKey(Prop::from_name(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// One row of a reference list: an OData entity (a JSON object) of which only the [`Prop`]s
/// are kept; every other property is skipped. As with a JSON map, a property given twice
/// keeps its last value.
#[derive(Debug)]
pub(crate) struct RefRow<'a> {
    props: [Option<Scalar<'a>>; Prop::COUNT],
}

impl<'a> RefRow<'a> {
    fn get(&self, p: Prop) -> Option<&Scalar<'a>> {
        self.props[p as usize].as_ref()
    }

    /// Non-empty text of a property (numbers and booleans written as text), trimmed: Sage pads
    /// fixed-width fields on some builds.
    fn text(&self, p: Prop) -> Option<Cow<'_, str>> {
        let t = match self.get(p)? {
            Scalar::Text(s) => Cow::Borrowed(s.trim()),
            Scalar::Number(n) => Cow::Owned(n.to_string()),
            Scalar::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Scalar::Other => return None,
        };
        (!t.is_empty()).then_some(t)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RefRow<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RefRow<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an OData entity (a JSON object)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut row = RefRow {
                    props: std::array::from_fn(|_| None),
                };
                while let Some(PropKey(prop)) = map.next_key()? {
                    match prop {
                        Some(p) => row.props[p as usize] = Some(map.next_value()?),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(row)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// Where each kind lives and what its code property is called.
pub(crate) struct KindWire {
    /// `MODULE/Resource`.
    pub(crate) resource: &'static str,
    /// The code property, then its alternative spellings.
    code_fields: &'static [Prop],
    /// Extra properties kept in `extras.other`.
    other: &'static [Prop],
    /// What the first page asks for with `$select` (comma-separated), `None` for the whole
    /// entity. Only properties every build is documented to have: OData answers 400 to a
    /// `$select` naming a property the entity lacks.
    pub(crate) select: Option<&'static str>,
}

/// The `$select` of customer groups: every property [`reference_record`] reads of a group
/// (the code, `Description`, `Status`, `InactiveDate`, the defaults and [`KindWire::other`]);
/// all in the 2016 `$metadata` and the 2019+ samples.
const GROUP_SELECT: &str = "GroupCode,Description,Status,InactiveDate,Terms,TaxGroup,\
AccountSet,BillingCycle,InterestProfile,AccountType,RateType";

/// The `$select` of tax groups: the key pair, `Description` and [`KindWire::other`]. TXGRP has
/// no status (neither `Status` nor `InactiveDate` is a property), so a tax group is active.
const TAX_SELECT: &str =
    "TaxGroupKey,TransactionType,Description,TaxReportingCurrency,TaxCalculationMethod";

/// The Sage 300 source of `kind`, `None` for kinds Sage 300 does not have (languages are a
/// fixed set, served without a request).
///
/// Terms and currencies are read whole (no `$select`): their code property has two spellings
/// across builds (`TermsCode`/`TermsCodeKey`, `CurrencyCodeKey`/`CurrencyCode`), a `$select`
/// must name exactly one, and the lists are a few dozen rows — nothing to save.
pub(crate) fn kind_wire(kind: ReferenceKind) -> Option<KindWire> {
    Some(match kind {
        ReferenceKind::Category => KindWire {
            resource: "AR/ARCustomerGroups",
            code_fields: &[Prop::GroupCode],
            other: &[
                Prop::AccountSet,
                Prop::BillingCycle,
                Prop::InterestProfile,
                Prop::AccountType,
                Prop::RateType,
            ],
            select: Some(GROUP_SELECT),
        },
        ReferenceKind::Currency => KindWire {
            resource: "CS/CSCurrencyCodes",
            code_fields: &[Prop::CurrencyCodeKey, Prop::CurrencyCode],
            other: &[Prop::Symbol, Prop::DecimalPlaces],
            select: None,
        },
        ReferenceKind::Terms => KindWire {
            resource: "AR/ARTerms",
            // 2019+ samples say TermsCode; the 2016 $metadata says TermsCodeKey.
            code_fields: &[Prop::TermsCode, Prop::TermsCodeKey],
            other: &[
                Prop::DueDateType,
                Prop::UsePaymentSchedule,
                Prop::NumberOfPayments,
            ],
            select: None,
        },
        ReferenceKind::Tax => KindWire {
            resource: "TX/TXTaxGroups",
            code_fields: &[Prop::TaxGroupKey],
            other: &[
                Prop::TransactionType,
                Prop::TaxReportingCurrency,
                Prop::TaxCalculationMethod,
            ],
            select: Some(TAX_SELECT),
        },
        _ => return None,
    })
}

/// Whether a row is active: `Status` decides when present (`"Inactive"`, `0` or `false` mean
/// inactive); otherwise an `InactiveDate` on or before today means inactive.
fn active(row: &RefRow<'_>, today: &str) -> bool {
    match row.get(Prop::Status) {
        Some(Scalar::Text(s)) if !s.trim().is_empty() => !s.trim().eq_ignore_ascii_case("inactive"),
        Some(Scalar::Number(n)) => n.as_f64() != Some(0.0),
        Some(Scalar::Bool(b)) => *b,
        _ => match row.text(Prop::InactiveDate) {
            // `YYYY-MM-DD…` with or without a time zone: the date part decides.
            Some(d) if d.len() >= 10 => d.get(..10).is_none_or(|day| day > today),
            _ => true,
        },
    }
}

/// Whether a tax-group row is a Sales row (`"Sales"`, or `1` as the view's TTYPE).
fn is_sales(row: &RefRow<'_>) -> bool {
    match row.get(Prop::TransactionType) {
        Some(Scalar::Text(s)) => s.trim().eq_ignore_ascii_case("sales"),
        Some(Scalar::Number(n)) => n.as_u64() == Some(1),
        _ => false,
    }
}

fn code_of(
    kind: ReferenceKind,
    field: &str,
    raw: &str,
    row_text: &dyn Fn() -> String,
) -> Result<ReferenceCode, String> {
    ReferenceCode::parse(raw).map_err(|e| {
        protocol(
            &format!("{kind} {field} `{raw}` is not a usable code ({e})"),
            row_text().as_bytes(),
        )
    })
}

/// Converts one row of `kind`; `Ok(None)` for a row that does not belong (a Purchases tax
/// group). A row without a usable code is an error, never silently dropped; `row_text` gives
/// the whole row as JSON for the message.
pub(crate) fn reference_record(
    kind: ReferenceKind,
    wire: &KindWire,
    row: &RefRow<'_>,
    today: &str,
    row_text: &dyn Fn() -> String,
) -> Result<Option<ErpReferenceRecord>, String> {
    if kind == ReferenceKind::Tax && !is_sales(row) {
        return Ok(None);
    }
    let Some((field, raw)) = wire
        .code_fields
        .iter()
        .find_map(|f| row.text(*f).map(|t| (*f, t)))
    else {
        let names: Vec<&str> = wire.code_fields.iter().map(|p| p.name()).collect();
        return Err(protocol(
            &format!("a {kind} row without {}", names.join(" or ")),
            row_text().as_bytes(),
        ));
    };
    let code = code_of(kind, field.name(), &raw, row_text)?;
    let mut extras = ReferenceExtras::default();
    if kind == ReferenceKind::Category {
        if let Some(t) = row.text(Prop::Terms) {
            extras.default_terms = Some(code_of(kind, "Terms", &t, row_text)?);
        }
        if let Some(t) = row.text(Prop::TaxGroup) {
            extras.default_tax_group = Some(code_of(kind, "TaxGroup", &t, row_text)?);
        }
    }
    for p in wire.other {
        if let Some(v) = row.text(*p) {
            extras.other.insert(p.name().to_owned(), v.into_owned());
        }
    }
    Ok(Some(ErpReferenceRecord {
        code,
        description: row
            .text(Prop::Description)
            .map(Cow::into_owned)
            .unwrap_or_default(),
        active: active(row, today),
        extras,
    }))
}

/// The check languages Sage 300 accepts in `CheckLanguage` (no endpoint lists them).
pub(crate) const CHECK_LANGUAGES: [(&str, &str); 5] = [
    ("ENG", "English"),
    ("FRA", "French"),
    ("ESN", "Spanish"),
    ("CHT", "Chinese (Traditional)"),
    ("CHN", "Chinese (Simplified)"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sage300::wire::customer::text;
    use crate::sage300::wire::{parse_page, parse_reference_page, row_text};
    use serde_json::Value;

    fn row(v: Value) -> RefRow<'static> {
        // Leaked: a test row borrowing from a page that lives for the whole test.
        let text: &'static str = Box::leak(v.to_string().into_boxed_str());
        serde_json::from_str(text).expect("a row")
    }

    #[test]
    fn inactive_by_status_or_by_date() {
        let today = "2025-06-01";
        assert!(active(&row(serde_json::json!({"Status": "Active"})), today));
        assert!(!active(
            &row(serde_json::json!({"Status": "Inactive", "InactiveDate": null})),
            today
        ));
        assert!(!active(&row(serde_json::json!({"Status": 0})), today));
        assert!(!active(&row(serde_json::json!({"Status": false})), today));
        assert!(active(&row(serde_json::json!({"Status": 1.5})), today));
        assert!(active(&row(serde_json::json!({})), today));
        assert!(!active(
            &row(serde_json::json!({"InactiveDate": "2020-01-01T00:00:00"})),
            today
        ));
        assert!(!active(
            &row(serde_json::json!({"Status": " ", "InactiveDate": "2020-01-01"})),
            today
        ));
        assert!(active(
            &row(serde_json::json!({"InactiveDate": "2030-01-01T00:00:00Z"})),
            today
        ));
    }

    #[test]
    fn prop_names_are_their_wire_names() {
        assert_eq!(Prop::ALL.len(), Prop::COUNT);
        for p in Prop::ALL {
            assert_eq!(Prop::from_name(p.name()), Some(*p));
        }
        assert_eq!(
            Prop::from_name("groupcode"),
            None,
            "names are case-sensitive"
        );
    }

    /// A typed row reads each property as the JSON map did: text trimmed, numbers printed as
    /// `serde_json` prints them, booleans as text, `null`/arrays/objects as nothing, escapes
    /// decoded, the last of a repeated property kept, unknown properties skipped.
    #[test]
    fn typed_rows_read_what_the_json_map_read() {
        let page = br#"{"value":[{"GroupCode":" RTL ","Description":"Caf\u00e9 \"Q\"",
            "AccountSet":12,"BillingCycle":-3,"InterestProfile":1.50,"AccountType":true,
            "RateType":null,"Terms":["N30"],"TaxGroup":{"a":[1,{"b":2}]},"Status":"Active",
            "Unknown":{"GroupCode":"NOT-ME"},"Status":"Inactive","Symbol":1e3}]}"#;
        let typed = parse_reference_page(page).expect("typed");
        let whole = parse_page(page).expect("whole");
        let (t, w) = (&typed.rows[0], &whole.rows[0]);
        for p in Prop::ALL {
            assert_eq!(
                t.text(*p).map(Cow::into_owned),
                text(w, p.name()),
                "{}",
                p.name()
            );
        }
        assert_eq!(t.text(Prop::GroupCode).as_deref(), Some("RTL"));
        assert_eq!(t.text(Prop::Description).as_deref(), Some("Café \"Q\""));
        assert_eq!(t.text(Prop::InterestProfile).as_deref(), Some("1.5"));
        assert_eq!(t.text(Prop::AccountType).as_deref(), Some("true"));
        assert!(!active(t, "2025-06-01"), "the last Status wins");
        assert!(matches!(
            t.get(Prop::GroupCode),
            Some(Scalar::Text(Cow::Borrowed(_)))
        ));
    }

    /// The `$select` of a kind names every property read for it (so a server that honours it
    /// changes nothing), except those documented absent on the resource.
    #[test]
    fn each_select_names_everything_read() {
        for kind in [
            ReferenceKind::Category,
            ReferenceKind::Currency,
            ReferenceKind::Terms,
            ReferenceKind::Tax,
        ] {
            let wire = kind_wire(kind).expect("a kind");
            let Some(select) = wire.select else { continue };
            let selected: Vec<&str> = select.split(',').collect();
            let mut read: Vec<Prop> = wire.code_fields.to_vec();
            read.extend(wire.other);
            read.push(Prop::Description);
            match kind {
                ReferenceKind::Category => {
                    read.extend([
                        Prop::Status,
                        Prop::InactiveDate,
                        Prop::Terms,
                        Prop::TaxGroup,
                    ]);
                }
                ReferenceKind::Tax => read.push(Prop::TransactionType),
                _ => {}
            }
            for p in &read {
                assert!(
                    selected.contains(&p.name()),
                    "{kind}: {} not selected",
                    p.name()
                );
            }
            for name in &selected {
                let p = Prop::from_name(name).expect("a read property");
                assert!(read.contains(&p), "{kind}: {name} selected but never read");
            }
        }
    }

    #[test]
    fn a_refused_row_is_quoted_whole() {
        let page = br#"{"value":[{"GroupCode":"A"},{"Description":"no code","X":[1]}]}"#;
        let typed = parse_reference_page(page).expect("typed");
        let wire = kind_wire(ReferenceKind::Category).expect("groups");
        let today = "2025-06-01";
        let ok = reference_record(
            ReferenceKind::Category,
            &wire,
            &typed.rows[0],
            today,
            &|| row_text(page, 0),
        )
        .expect("row 0");
        assert_eq!(ok.map(|r| r.code.as_str().to_owned()).as_deref(), Some("A"));
        let err = reference_record(
            ReferenceKind::Category,
            &wire,
            &typed.rows[1],
            today,
            &|| row_text(page, 1),
        )
        .expect_err("row 1");
        assert!(
            err.contains(r#"{"Description":"no code","X":[1]}"#),
            "{err}"
        );
    }
}
