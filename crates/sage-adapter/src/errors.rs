//! Turning what went wrong on the wire into the domain's errors. Shared by every flavour: the
//! flavour parses its own error body into an [`ErpMessage`] and says whether it means "a
//! duplicate"; the rules for statuses and transport failures live here once.

use crm2sage_domain::ports::{CreateCustomerError, ErpReadError};

use crate::http::Transport;

/// The longest excerpt of an unexpected body quoted in an error.
const EXCERPT_CHARS: usize = 160;

/// What the ERP said about a failure, whatever flavour's body it came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ErpMessage {
    /// The ERP's code (`RecordNotFound`, `General`, …).
    pub(crate) code: Option<String>,
    /// The ERP's human message.
    pub(crate) message: Option<String>,
}

impl ErpMessage {
    /// The code, or `""`.
    pub(crate) fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("")
    }
}

/// A short, one-line excerpt of `body` for an error message.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return "(empty body)".to_owned();
    }
    let mut out: String = collapsed.chars().take(EXCERPT_CHARS).collect();
    if collapsed.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    out
}

/// The message to show for a failure status: the ERP's message (with its code), or an
/// excerpt of the body when it is not the documented shape.
fn human(status: u16, parsed: Option<&ErpMessage>, body: &[u8]) -> String {
    match parsed {
        Some(m) => match (&m.code, &m.message) {
            (Some(c), Some(msg)) => format!("{c}: {msg}"),
            (Some(c), None) => c.clone(),
            (None, Some(msg)) => msg.clone(),
            (None, None) => format!("HTTP {status}: {}", excerpt(body)),
        },
        None => format!("HTTP {status}, unexpected body: {}", excerpt(body)),
    }
}

/// A GET that got no complete answer, after its retries.
pub(crate) fn read_transport(t: Transport) -> ErpReadError {
    match t {
        Transport::TooLarge(m) => ErpReadError::Protocol { excerpt: m },
        Transport::Redirect { status, .. } => ErpReadError::Server {
            status,
            message: t.to_string(),
        },
        Transport::NotSent(m) | Transport::AnswerLost(m) => ErpReadError::Unreachable(m),
    }
}

/// A GET answered with a failure status (after retries). "Not found" is decided by the
/// caller before this is reached.
pub(crate) fn read_status(status: u16, parsed: Option<&ErpMessage>, body: &[u8]) -> ErpReadError {
    let message = human(status, parsed, body);
    match status {
        401 => ErpReadError::Unauthorized,
        403 => ErpReadError::Forbidden(message),
        429 => ErpReadError::RateLimited,
        _ => ErpReadError::Server { status, message },
    }
}

/// A create that got no complete answer: never sent → unreachable; otherwise it may have been
/// created.
pub(crate) fn create_transport(t: Transport) -> CreateCustomerError {
    match t {
        Transport::NotSent(m) => CreateCustomerError::Unreachable(m),
        Transport::AnswerLost(m) | Transport::TooLarge(m) => CreateCustomerError::Ambiguous {
            reason: format!("no complete answer to the create, it may have been created: {m}"),
        },
        // A 303 after a POST means "created, see there": never a definite refusal.
        Transport::Redirect { .. } => CreateCustomerError::Ambiguous {
            reason: format!("{t}; the customer may have been created"),
        },
    }
}

/// A create answered with a failure status. `duplicate` is the flavour's verdict that the
/// answer means "this key exists".
pub(crate) fn create_status(
    status: u16,
    parsed: Option<&ErpMessage>,
    body: &[u8],
    duplicate: bool,
) -> CreateCustomerError {
    match status {
        401 => CreateCustomerError::Unauthorized,
        403 => CreateCustomerError::Forbidden(human(status, parsed, body)),
        429 => CreateCustomerError::RateLimited,
        _ if duplicate => CreateCustomerError::AlreadyExists,
        // A 4xx is a definite refusal: the server did not create anything.
        400..=499 => CreateCustomerError::Rejected {
            code: parsed
                .and_then(|m| m.code.clone())
                .unwrap_or_else(|| format!("HTTP {status}")),
            message: match parsed.and_then(|m| m.message.clone()) {
                Some(m) if !m.is_empty() => m,
                _ => human(status, parsed, body),
            },
        },
        // 5xx (and anything else): the server may have committed before failing.
        _ => CreateCustomerError::Ambiguous {
            reason: format!(
                "the ERP answered {status} to the create, it may have been created: {}",
                human(status, parsed, body)
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt(b""), "(empty body)");
        assert_eq!(
            excerpt(b"<html>\n  <b>oops</b>\n</html>"),
            "<html> <b>oops</b> </html>"
        );
        let long = "x".repeat(500);
        let e = excerpt(long.as_bytes());
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn create_statuses_follow_the_rules() {
        let general = ErpMessage {
            code: Some("General".into()),
            message: Some("Tax Group \"X\" does not exist.".into()),
        };
        assert_eq!(
            create_status(409, Some(&general), b"", false),
            CreateCustomerError::Rejected {
                code: "General".into(),
                message: "Tax Group \"X\" does not exist.".into()
            }
        );
        assert_eq!(
            create_status(409, None, b"", true),
            CreateCustomerError::AlreadyExists
        );
        assert!(matches!(
            create_status(500, None, b"boom", false),
            CreateCustomerError::Ambiguous { .. }
        ));
        assert!(matches!(
            create_status(400, None, b"<html>", false),
            CreateCustomerError::Rejected { code, .. } if code == "HTTP 400"
        ));
        assert_eq!(
            create_status(401, None, b"", false),
            CreateCustomerError::Unauthorized
        );
        assert_eq!(
            create_status(429, None, b"", false),
            CreateCustomerError::RateLimited
        );
        assert!(matches!(
            create_transport(Transport::NotSent("refused".into())),
            CreateCustomerError::Unreachable(_)
        ));
        assert!(matches!(
            create_transport(Transport::AnswerLost("reset".into())),
            CreateCustomerError::Ambiguous { .. }
        ));
    }
}
