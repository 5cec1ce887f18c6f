//! The JSON shapes (documented in docs/cli.md, kept stable) and the human tables.

use crm2sage_domain::ports::LogEntry;
use crm2sage_domain::{
    Account, Binding, ErpRecord, ErpValue, Integration, IntegrationSettings, Promotion,
};
use serde_json::{Map, Value, json};

pub(crate) fn integration(i: &Integration) -> Value {
    let (division, name_max) = match i.settings() {
        IntegrationSettings::Sage300 => (None, None),
        IntegrationSettings::Sage100 {
            default_division,
            customer_name_max,
        } => (
            Some(default_division.to_string()),
            Some(customer_name_max.chars()),
        ),
    };
    json!({
        "id": i.id().to_string(),
        "name": i.name().as_str(),
        "kind": i.kind().as_str(),
        "url": i.base_url().as_str(),
        "company": i.company().as_str(),
        "user": i.user().as_str(),
        "password_env": i.secret().is_env().then(|| i.secret().name()),
        "secret": i.secret().to_string(),
        "default": i.is_default(),
        "division": division,
        "customer_name_max": name_max,
        "crm_id_field": i.crm_id_field().map(|f| f.as_str()),
        "allow_insecure_http": i.http_policy() == crm2sage_domain::HttpPolicy::AllowInsecureHttp,
        "timeout_secs": i.timeout().unwrap_or_default().as_secs(),
        "timeout_is_default": i.timeout().is_none(),
        "ca_certificates": i.trusted_ca().map_or(0, |ca| ca.certificates()),
        "created_at": i.created_at().to_string(),
    })
}

/// The integration's request timeout: `90 s`, or `60 s (default)` when it sets none.
pub(crate) fn timeout(i: &Integration) -> String {
    match i.timeout() {
        Some(t) => t.to_string(),
        None => format!("{} (default)", crm2sage_domain::RequestTimeout::default()),
    }
}

pub(crate) fn account(a: &Account) -> Value {
    let d = a.details();
    let address = |x: &crm2sage_domain::Address| {
        json!({
            "line1": x.line1(), "line2": x.line2(), "line3": x.line3(),
            "city": x.city(), "state": x.state(), "postal_code": x.postal_code(),
            "country": x.country().alpha2(),
        })
    };
    json!({
        "id": a.id().to_string(),
        "reference": d.reference().map(|r| r.as_str()),
        "name": d.name().as_str(),
        "billing": address(d.billing()),
        "shipping": d.shipping().map(address),
        "phone": d.phone().map(|p| p.as_str()),
        "email": d.email().map(|e| e.as_str()),
        "website": d.website().map(|w| w.as_str()),
        "currency": d.currency().map(|c| c.as_str()),
        "language": d.language().map(|c| c.as_str()),
        "terms": d.terms().map(|c| c.as_str()),
        "created_at": a.created_at().to_string(),
        "updated_at": a.updated_at().to_string(),
    })
}

pub(crate) fn binding(b: &Binding, integration_name: &str) -> Value {
    json!({
        "integration": integration_name,
        "customer_no": b.customer_no.as_str(),
        "external_uid": b.external_uid.as_str(),
        "integration_key": b.integration_key.as_str(),
        "origin": b.origin.as_str(),
        "promoted_at": b.promoted_at.to_string(),
    })
}

pub(crate) fn promotion(p: &Promotion, integration_name: &str) -> Value {
    json!({
        "id": p.id.to_string(),
        "integration": integration_name,
        "customer_no": p.request.customer_no().as_str(),
        "external_uid": p.external_uid.as_str(),
        "state": p.state.as_str(),
        "error": p.error,
        "created_at": p.created_at.to_string(),
        "updated_at": p.updated_at.to_string(),
    })
}

pub(crate) fn erp_value(v: &ErpValue) -> Value {
    match v {
        ErpValue::Text(t) => Value::String(t.clone()),
        // The ERP's own text: integers print exactly (`9007199254740993`, `2`).
        ErpValue::Number(n) => serde_json::from_str::<serde_json::Number>(n.as_str())
            .map_or_else(|_| Value::String(n.to_string()), Value::Number),
        ErpValue::Bool(b) => Value::Bool(*b),
        ErpValue::Null => Value::Null,
    }
}

/// The ERP's fields under the ERP's own names, in the ERP's order.
pub(crate) fn erp_record(r: &ErpRecord) -> Map<String, Value> {
    r.fields()
        .map(|(name, value)| (name.to_owned(), erp_value(value)))
        .collect()
}

pub(crate) fn log_entry(e: &LogEntry, integration_name: Option<&str>) -> Value {
    json!({
        "at": e.at.to_string(),
        "account_id": e.account.to_string(),
        "integration": integration_name,
        "promotion_id": e.promotion.map(|p| p.to_string()),
        "event": e.event.as_str(),
        "request": e.request,
        "message": e.message,
        "duration_ms": e.duration_ms,
    })
}

/// ERP (or any outside) text made safe for a terminal: every control character — C0 (including
/// tab and newline, which would break a table's layout), DEL and C1 — is shown escaped as
/// `\u{1b}`, so an ERP answer cannot move the cursor, ring the bell, retitle the window or hide
/// text. Everything else is kept as is. Every table cell goes through here ([`crate::output::Out::table`]).
pub(crate) fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A short local time for tables.
pub(crate) fn when(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `erp-details --json` prints ERP numbers exactly (issue 18): no float in between.
    #[test]
    fn erp_numbers_print_exactly() {
        for text in ["9007199254740993", "2", "-7", "2.5"] {
            let n = crm2sage_domain::ErpNumber::parse(text).expect("a number");
            assert_eq!(erp_value(&ErpValue::Number(n)).to_string(), text);
        }
    }

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(terminal_safe("ACME\u{1b}[2J"), "ACME\\u{1b}[2J");
        assert_eq!(terminal_safe("bell\u{7}"), "bell\\u{7}");
        assert_eq!(terminal_safe("a\nb\tc\rd"), "a\\u{a}b\\u{9}c\\u{d}d");
        assert_eq!(terminal_safe("c1\u{9b}31m"), "c1\\u{9b}31m");
        assert_eq!(terminal_safe("del\u{7f}"), "del\\u{7f}");
        assert_eq!(terminal_safe("\u{0}"), "\\u{0}");
    }

    #[test]
    fn ordinary_text_is_kept() {
        assert_eq!(
            terminal_safe("Café Müller & Söhne, 東京"),
            "Café Müller & Söhne, 東京"
        );
        assert!(matches!(
            terminal_safe("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
