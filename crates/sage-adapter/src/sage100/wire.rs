//! Sage 100 tables and columns: where each reference kind lives, how an entry becomes a
//! reference record or an [`ErpRecord`], and the columns a create sends.

use crm2sage_domain::ports::{ErpReferenceRecord, NewErpCustomer};
use crm2sage_domain::{
    ArDivision, ErpRecord, ErpValue, ReferenceCode, ReferenceExtras, ReferenceKind,
};

use super::xml::{Diagnosis, Entry};
use crate::errors::ErpMessage;

/// The customer table.
pub(crate) const CUSTOMERS: &str = "AR_Customer";
/// The customer-type table (optional).
pub(crate) const CUSTOMER_TYPES: &str = "AR_CustomerType";

/// Where a kind's records live and which columns hold what.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KindWire {
    /// The table, when fixed (`None`: the ship-method table, named by `$schema`).
    pub(crate) table: Option<&'static str>,
    /// The code column, then alternative spellings.
    code: &'static [&'static str],
    /// The description column, then alternatives.
    description: &'static [&'static str],
    /// Extra columns kept in `extras.other`.
    other: &'static [&'static str],
    /// Whether a promotion requires the kind (a missing table is then an error, not
    /// `KindUnavailable`).
    pub(crate) required: bool,
}

/// The Sage 100 source of `kind`; `None` for kinds Sage 100 does not have (currency, language).
pub(crate) fn kind_wire(kind: ReferenceKind) -> Option<KindWire> {
    Some(match kind {
        ReferenceKind::Division => KindWire {
            table: Some("AR_Division"),
            code: &["ARDivisionNo"],
            description: &["DivisionDesc"],
            other: &[],
            required: true,
        },
        ReferenceKind::Terms => KindWire {
            table: Some("AR_TermsCode"),
            code: &["TermsCode"],
            description: &["TermsCodeDesc"],
            other: &["DaysBeforeDue", "DiscountRate", "DaysBeforeDiscountDue"],
            required: true,
        },
        ReferenceKind::Tax => KindWire {
            table: Some("SY_SalesTaxSchedule"),
            code: &["TaxSchedule"],
            description: &["TaxScheduleDesc"],
            other: &[],
            required: true,
        },
        ReferenceKind::Salesperson => KindWire {
            table: Some("AR_Salesperson"),
            // The code is `SalespersonDivisionNo-SalespersonNo`; see `reference_record`.
            code: &["SalespersonNo"],
            description: &["SalespersonName"],
            other: &["EmailAddress"],
            required: true,
        },
        ReferenceKind::Category => KindWire {
            table: Some(CUSTOMER_TYPES),
            code: &["CustomerType"],
            description: &["CustomerTypeDesc", "Description", "ReportAsType"],
            other: &["ReportAsType"],
            required: false,
        },
        ReferenceKind::ShipMethod => KindWire {
            table: None,
            code: &["ShipMethod", "ShipVia", "ShipMethodCode", "ShipCode"],
            description: &["ShipMethodDesc", "ShipViaDesc", "Description"],
            other: &[],
            required: false,
        },
        _ => return None,
    })
}

/// Whether a `$schema` resource kind looks like the ship-method table.
pub(crate) fn is_ship_method_table(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("shipmethod") || lower.contains("shipvia")
}

fn first<'e>(entry: &'e Entry, names: &[&str]) -> Option<&'e str> {
    names.iter().find_map(|n| entry.text(n))
}

/// Whether a status column says inactive: a `…Status` column holding `I` or `Inactive`, or an
/// `Inactive…` flag holding `Y`, `Yes`, `true` or `1`. No such column: active.
fn active(entry: &Entry) -> bool {
    !entry.columns.iter().any(|(name, value)| {
        let Some(v) = value.as_deref().map(str::trim) else {
            return false;
        };
        let lower = name.to_ascii_lowercase();
        (lower.ends_with("status")
            && (v.eq_ignore_ascii_case("i") || v.eq_ignore_ascii_case("inactive")))
            || (lower.starts_with("inactive")
                && ["y", "yes", "true", "1"]
                    .iter()
                    .any(|t| v.eq_ignore_ascii_case(t)))
    })
}

/// One entry of `kind` as a reference record. A row without its code, or with a code the
/// domain refuses, is an error naming it — never a silently dropped record.
pub(crate) fn reference_record(
    kind: ReferenceKind,
    wire: &KindWire,
    entry: &Entry,
) -> Result<ErpReferenceRecord, String> {
    let raw = if kind == ReferenceKind::Salesperson {
        let division = entry
            .text("SalespersonDivisionNo")
            .ok_or("a salesperson without SalespersonDivisionNo")?;
        let division =
            ArDivision::parse(division).map_err(|e| format!("salesperson division: {e}"))?;
        let number = entry
            .text("SalespersonNo")
            .ok_or("a salesperson without SalespersonNo")?;
        format!("{division}-{number}")
    } else {
        first(entry, wire.code)
            .ok_or_else(|| format!("a {kind} row without {}", wire.code.join(" or ")))?
            .to_owned()
    };
    let code = ReferenceCode::parse(&raw).map_err(|e| format!("{kind} code `{raw}`: {e}"))?;
    let mut extras = ReferenceExtras::default();
    for name in wire.other {
        if let Some(v) = entry.text(name) {
            extras.other.insert((*name).to_owned(), v.to_owned());
        }
    }
    Ok(ErpReferenceRecord {
        code,
        description: first(entry, wire.description).unwrap_or("").to_owned(),
        active: active(entry),
        extras,
    })
}

/// An entry as an [`ErpRecord`]: every column in document order, as text (SData sends every
/// value as text; `xsi:nil` is [`ErpValue::Null`]). Numbers stay text so `0000123` and
/// `5000.00` keep their spelling; [`ErpRecord::number`] parses them when asked.
pub(crate) fn record(entry: &Entry) -> ErpRecord {
    entry
        .columns
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Some(text) => ErpValue::Text(text.clone()),
                None => ErpValue::Null,
            };
            (name.clone(), value)
        })
        .collect()
}

/// `name` when it is a Sage 100 UDF column name (`UDF_` then letters, digits or `_`): what may
/// be written as an element name.
pub(crate) fn udf_column(name: &str) -> Result<&str, String> {
    let valid = name.starts_with("UDF_")
        && name.len() > 4
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(name)
    } else {
        Err(format!(
            "the CRM-id field `{name}` is not a Sage 100 UDF column name (UDF_ then letters, digits or _)"
        ))
    }
}

/// The Atom entry a create POSTs for `c`: the one body `create_customer` sends and
/// `customer_payload` shows.
pub(crate) fn create_entry(c: &NewErpCustomer) -> Result<String, String> {
    let columns = create_columns(c)?;
    let pairs: Vec<(&str, &str)> = columns
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    Ok(super::xml::entry_xml(CUSTOMERS, &pairs))
}

/// The columns of a create, in the spec's "Outcome" order; every `None` is left out.
pub(crate) fn create_columns(c: &NewErpCustomer) -> Result<Vec<(String, String)>, String> {
    let division = c.key.division.unwrap_or_default();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            out.push((name.to_owned(), v.to_owned()));
        }
    };
    push("ARDivisionNo", Some(division.as_str()));
    push("CustomerNo", Some(c.key.customer_no.as_str()));
    push("CustomerName", Some(&c.name));
    for (i, line) in c.address_lines.iter().enumerate() {
        push(&format!("AddressLine{}", i + 1), line.as_deref());
    }
    push("City", c.city.as_deref());
    push("State", c.state.as_deref());
    push("ZipCode", c.postal_code.as_deref());
    push("CountryCode", c.country.map(|k| k.alpha3()));
    push("TelephoneNo", c.phone.as_deref());
    push("EmailAddress", c.email.as_deref());
    push("URLAddress", c.website.as_deref());
    push("TermsCode", c.terms.as_ref().map(ReferenceCode::as_str));
    push("TaxSchedule", c.tax.as_ref().map(ReferenceCode::as_str));
    if let Some(sp) = &c.salesperson {
        let sp_division = sp.division().unwrap_or(division);
        push("SalespersonDivisionNo", Some(sp_division.as_str()));
        push("SalespersonNo", Some(sp.number()));
    }
    push(
        "ShipMethod",
        c.ship_method.as_ref().map(ReferenceCode::as_str),
    );
    push(
        "CustomerType",
        c.category.as_ref().map(ReferenceCode::as_str),
    );
    if let Some((field, value)) = &c.crm_id {
        push(udf_column(field.as_str())?, Some(value));
    }
    // Nothing is sent empty: an empty text is left out like a `None`.
    out.retain(|(_, v)| !v.is_empty());
    Ok(out)
}

/// The diagnoses as one [`ErpMessage`]: the application code when Sage gave one, else the SData
/// code; the messages joined.
pub(crate) fn message_of(diagnoses: &[Diagnosis]) -> ErpMessage {
    let main = diagnoses
        .iter()
        .find(|d| d.is_error())
        .or_else(|| diagnoses.first());
    let code = main.and_then(|d| d.application_code.clone().or_else(|| d.sdata_code.clone()));
    let messages: Vec<&str> = diagnoses
        .iter()
        .filter_map(|d| d.message.as_deref())
        .collect();
    ErpMessage {
        code,
        message: Some(messages.join("; ")).filter(|m| !m.is_empty()),
    }
}

/// Whether the diagnoses say "this key exists": a code or a message saying the record already
/// exists or is a duplicate (never "does not exist").
pub(crate) fn says_duplicate(diagnoses: &[Diagnosis]) -> bool {
    diagnoses.iter().any(|d| {
        let codes = [d.application_code.as_deref(), d.sdata_code.as_deref()];
        let code_says = codes.iter().flatten().any(|c| {
            let c = c.to_ascii_lowercase();
            c.contains("alreadyexists") || c.contains("duplicate")
        });
        let message_says = d.message.as_deref().is_some_and(|m| {
            let m = m.to_ascii_lowercase();
            [
                "already exist",
                "record exists",
                "already on file",
                "duplicate",
            ]
            .iter()
            .any(|p| m.contains(p))
        });
        code_says || message_says
    })
}

/// Whether `diagnoses` carry one of the SData codes that mean "wrong URL" (application,
/// contract, dataset or resource kind unknown) rather than "no such record".
pub(crate) fn has_code(diagnoses: &[Diagnosis], codes: &[&str]) -> bool {
    diagnoses.iter().any(|d| {
        d.sdata_code
            .as_deref()
            .is_some_and(|c| codes.iter().any(|k| c.eq_ignore_ascii_case(k)))
    })
}

/// The SData codes that say the URL itself is wrong.
pub(crate) const WRONG_URL: &[&str] = &[
    "ApplicationNotFound",
    "ContractNotFound",
    "DatasetNotFound",
    "ResourceKindNotFound",
    "BadUrlSyntax",
    "ApplicationUnavailable",
    "DatasetUnavailable",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(columns: &[(&str, Option<&str>)]) -> Entry {
        Entry {
            resource: Some("X".into()),
            columns: columns
                .iter()
                .map(|(c, v)| ((*c).to_owned(), v.map(str::to_owned)))
                .collect(),
        }
    }

    #[test]
    fn salespersons_are_division_dash_number() {
        let wire = kind_wire(ReferenceKind::Salesperson).expect("wire");
        let r = reference_record(
            ReferenceKind::Salesperson,
            &wire,
            &entry(&[
                ("SalespersonDivisionNo", Some("01")),
                ("SalespersonNo", Some("0100")),
                ("SalespersonName", Some("Jim")),
            ]),
        )
        .expect("record");
        assert_eq!(r.code.as_str(), "01-0100");
        assert_eq!(r.description, "Jim");
        assert!(r.active);
        assert!(
            reference_record(
                ReferenceKind::Salesperson,
                &wire,
                &entry(&[("SalespersonNo", Some("0100"))])
            )
            .is_err()
        );
    }

    #[test]
    fn status_columns_decide_activity() {
        assert!(active(&entry(&[("CustomerStatus", Some("A"))])));
        assert!(!active(&entry(&[("CustomerStatus", Some("I"))])));
        assert!(!active(&entry(&[("Inactive", Some("Y"))])));
        assert!(active(&entry(&[("InactiveReasonCode", Some("03"))])));
        assert!(active(&entry(&[("Status", None)])));
    }

    #[test]
    fn duplicates_are_not_does_not_exist() {
        let d = |m: &str| Diagnosis {
            message: Some(m.into()),
            ..Diagnosis::default()
        };
        assert!(says_duplicate(&[d("The record already exists.")]));
        assert!(says_duplicate(&[d("Customer 01-ABF already exists")]));
        assert!(!says_duplicate(&[d("Tax schedule NOSUCH does not exist.")]));
        assert!(says_duplicate(&[Diagnosis {
            application_code: Some("WS_AlreadyExists".into()),
            ..Diagnosis::default()
        }]));
    }
}
