//! Sage 300 error bodies, in every spelling seen.

use serde::Deserialize;
use serde_json::Value;

use super::strip_bom;
use crate::errors::ErpMessage;

/// `{"error":{"code":…,"message":{"lang":…,"value":…}}}`. Also accepted: `"odata.error"` and
/// a plain-string `message` (the OData v4 JSON format's own shape).
#[derive(Debug, Deserialize)]
struct ErrorEnvelope {
    #[serde(alias = "odata.error")]
    error: ErrorBody,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    message: Option<Value>,
}

/// Reads Sage's error body, whatever the `Content-Type` said; `None` when it is not that shape.
pub(crate) fn parse_error(body: &[u8]) -> Option<ErpMessage> {
    let envelope: ErrorEnvelope = serde_json::from_slice(strip_bom(body)).ok()?;
    let code = envelope
        .error
        .code
        .as_ref()
        .and_then(scalar_text)
        .filter(|c| !c.is_empty());
    let message = match envelope.error.message {
        Some(Value::Object(m)) => m.get("value").and_then(scalar_text),
        Some(other) => scalar_text(&other),
        None => None,
    }
    .filter(|m| !m.is_empty());
    if code.is_none() && message.is_none() {
        return None;
    }
    Some(ErpMessage { code, message })
}

pub(super) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_in_every_spelling() {
        let v = br#"{"error":{"code":"RecordNotFound","message":{"lang":"en-US","value":"A Record cannot be found"}}}"#;
        let m = parse_error(v).expect("parsed");
        assert_eq!(m.code.as_deref(), Some("RecordNotFound"));
        assert_eq!(m.message.as_deref(), Some("A Record cannot be found"));
        let v4 = br#"{"error":{"code":"General","message":"plain"}}"#;
        assert_eq!(
            parse_error(v4).and_then(|m| m.message).as_deref(),
            Some("plain")
        );
        let v3 = br#"{"odata.error":{"code":"X","message":{"value":"y"}}}"#;
        assert_eq!(parse_error(v3).and_then(|m| m.code).as_deref(), Some("X"));
        assert_eq!(parse_error(b"<html>Server Error</html>"), None);
        assert_eq!(parse_error(br#"{"value":[]}"#), None);
    }
}
