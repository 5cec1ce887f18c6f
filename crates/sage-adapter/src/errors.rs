//! Turning what went wrong on the wire into the domain's errors. Shared by every flavour: the
//! flavour parses its own error body into an [`ErpMessage`] and says whether it means "a
//! duplicate"; the rules for statuses and transport failures live here once.

use crm2sage_domain::ports::{CreateCustomerError, ErpReadError, ErpWriteError};

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

/// Which write failed, for the messages: a create (a new record) or an update of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteAct {
    /// A POST of a new record.
    Create,
    /// A PATCH or PUT of an existing record.
    Update,
}

impl WriteAct {
    fn noun(self) -> &'static str {
        match self {
            Self::Create => "the create",
            Self::Update => "the update",
        }
    }

    fn maybe(self) -> &'static str {
        match self {
            Self::Create => "it may have been created",
            Self::Update => "it may have been applied",
        }
    }
}

/// Why a write failed, classified once for every write the adapter sends (a customer, a
/// ship-to, a contact, an update of a customer) and converted into the port's error type
/// ([`CreateCustomerError`], [`ErpWriteError`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WriteFailure {
    /// A definite refusal: nothing was written.
    Rejected { code: String, message: String },
    /// The key exists.
    AlreadyExists,
    /// The record it belongs to (its customer) does not exist; nothing was written.
    CustomerMissing,
    /// It may or may not have been written.
    Ambiguous { reason: String },
    /// Never sent.
    Unreachable(String),
    /// 401: nothing was written.
    Unauthorized,
    /// 403: nothing was written.
    Forbidden(String),
    /// 429: nothing was written.
    RateLimited,
}

/// What the flavour read in a failure answer: whether it says "this key exists" and whether
/// it says "the customer does not exist".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) duplicate: bool,
    pub(crate) customer_missing: bool,
}

/// A write that got no complete answer: never sent → unreachable; otherwise it may have been
/// written.
pub(crate) fn write_transport(t: Transport, act: WriteAct) -> WriteFailure {
    match t {
        Transport::NotSent(m) => WriteFailure::Unreachable(m),
        Transport::AnswerLost(m) | Transport::TooLarge(m) => WriteFailure::Ambiguous {
            reason: format!("no complete answer to {}, {}: {m}", act.noun(), act.maybe()),
        },
        // A 303 after a POST means "created, see there": never a definite refusal.
        Transport::Redirect { .. } => WriteFailure::Ambiguous {
            reason: format!("{t}; {}", act.maybe()),
        },
    }
}

/// A write answered with a failure status; `verdict` is the flavour's reading of the body.
pub(crate) fn write_status(
    status: u16,
    parsed: Option<&ErpMessage>,
    body: &[u8],
    verdict: Verdict,
    act: WriteAct,
) -> WriteFailure {
    match status {
        401 => WriteFailure::Unauthorized,
        403 => WriteFailure::Forbidden(human(status, parsed, body)),
        429 => WriteFailure::RateLimited,
        _ if verdict.duplicate => WriteFailure::AlreadyExists,
        400..=499 if verdict.customer_missing => WriteFailure::CustomerMissing,
        // A 4xx is a definite refusal: the server did not write anything.
        400..=499 => WriteFailure::Rejected {
            code: parsed
                .and_then(|m| m.code.clone())
                .unwrap_or_else(|| format!("HTTP {status}")),
            message: match parsed.and_then(|m| m.message.clone()) {
                Some(m) if !m.is_empty() => m,
                _ => human(status, parsed, body),
            },
        },
        // 5xx (and anything else): the server may have committed before failing.
        _ => WriteFailure::Ambiguous {
            reason: format!(
                "the ERP answered {status} to {}, {}: {}",
                act.noun(),
                act.maybe(),
                human(status, parsed, body)
            ),
        },
    }
}

/// A 2xx answer to a write whose body cannot be read: it may have been written.
pub(crate) fn unreadable_success(status: u16, act: WriteAct, why: &str) -> WriteFailure {
    WriteFailure::Ambiguous {
        reason: format!(
            "the ERP answered {status} to {} but its answer cannot be read: {why}",
            act.noun()
        ),
    }
}

/// Whether an ERP message says the customer a record belongs to does not exist: the subject
/// of its first "does not exist" / "not found" / "cannot be found" / "not on file" is the
/// customer itself — `Customer "C9" does not exist.`, `Customer Number "C9" …`, `The CustomerNo
/// 01-ABC is not on file.`, `The customer cannot be found` — and not another record that
/// merely names it (`Ship-To Location "WH9" does not exist for customer "C1".`, `Customer
/// Group "X" does not exist.`).
pub(crate) fn says_customer_missing(message: &str) -> bool {
    const PHRASES: [&str; 4] = [
        "does not exist",
        "not found",
        "cannot be found",
        "not on file",
    ];
    const AUXILIARY: [&str; 6] = ["is", "was", "could", "be", "has", "been"];
    let m = message.to_lowercase();
    let Some(at) = PHRASES.iter().filter_map(|p| m.find(p)).min() else {
        return false;
    };
    let mut words: Vec<&str> = m[..at].split_whitespace().collect();
    while words.last().is_some_and(|w| AUXILIARY.contains(w)) {
        words.pop();
    }
    let is_customer = |w: &str| matches!(w, "customer" | "customerno" | "customernumber");
    match words.as_slice() {
        [.., last] if is_customer(last) => true,
        [.., subject, _] if is_customer(subject) => true,
        [.., "customer", "number" | "no" | "no.", _] => true,
        _ => false,
    }
}

/// A read made before a write (a detection) failed: nothing was written.
pub(crate) fn write_from_read(e: ErpReadError) -> ErpWriteError {
    match e {
        ErpReadError::Unreachable(m) => ErpWriteError::Unreachable(m),
        ErpReadError::Unauthorized => ErpWriteError::Unauthorized,
        ErpReadError::Forbidden(m) => ErpWriteError::Forbidden(m),
        ErpReadError::RateLimited => ErpWriteError::RateLimited,
        other => ErpWriteError::Rejected {
            code: "crm2sage".to_owned(),
            message: format!("nothing was sent: {other}"),
        },
    }
}

impl From<WriteFailure> for CreateCustomerError {
    fn from(f: WriteFailure) -> Self {
        match f {
            WriteFailure::Rejected { code, message } => Self::Rejected { code, message },
            WriteFailure::AlreadyExists => Self::AlreadyExists,
            // A customer create has no parent: the verdict is never asked for there.
            WriteFailure::CustomerMissing => Self::Rejected {
                code: "CustomerMissing".to_owned(),
                message: "the ERP says the customer does not exist".to_owned(),
            },
            WriteFailure::Ambiguous { reason } => Self::Ambiguous { reason },
            WriteFailure::Unreachable(m) => Self::Unreachable(m),
            WriteFailure::Unauthorized => Self::Unauthorized,
            WriteFailure::Forbidden(m) => Self::Forbidden(m),
            WriteFailure::RateLimited => Self::RateLimited,
        }
    }
}

impl From<WriteFailure> for ErpWriteError {
    fn from(f: WriteFailure) -> Self {
        match f {
            WriteFailure::Rejected { code, message } => Self::Rejected { code, message },
            WriteFailure::AlreadyExists => Self::AlreadyExists,
            WriteFailure::CustomerMissing => Self::CustomerMissing,
            WriteFailure::Ambiguous { reason } => Self::Ambiguous { reason },
            WriteFailure::Unreachable(m) => Self::Unreachable(m),
            WriteFailure::Unauthorized => Self::Unauthorized,
            WriteFailure::Forbidden(m) => Self::Forbidden(m),
            WriteFailure::RateLimited => Self::RateLimited,
        }
    }
}

/// A customer create that got no complete answer.
pub(crate) fn create_transport(t: Transport) -> CreateCustomerError {
    write_transport(t, WriteAct::Create).into()
}

/// A customer create answered with a failure status. `duplicate` is the flavour's verdict that
/// the answer means "this key exists".
pub(crate) fn create_status(
    status: u16,
    parsed: Option<&ErpMessage>,
    body: &[u8],
    duplicate: bool,
) -> CreateCustomerError {
    let verdict = Verdict {
        duplicate,
        customer_missing: false,
    };
    write_status(status, parsed, body, verdict, WriteAct::Create).into()
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

    #[test]
    fn writes_tell_a_missing_customer_from_a_refusal() {
        for missing in [
            "Customer \"C9\" does not exist.",
            "Customer Number \"C9\" does not exist.",
            "The CustomerNo 01-ABC is not on file.",
            "The customer cannot be found",
        ] {
            assert!(says_customer_missing(missing), "{missing}");
        }
        for other in [
            "Tax Group \"X\" does not exist.",
            "Customer Group \"X\" does not exist.",
            "Ship-To Location \"WH9\" does not exist for customer \"C1\".",
            "The PrimaryShipToCode WH9 is not on file.",
            "Customer C1 already exists",
            "Record not found",
        ] {
            assert!(!says_customer_missing(other), "{other}");
        }
        let missing = Verdict {
            duplicate: false,
            customer_missing: true,
        };
        assert_eq!(
            ErpWriteError::from(write_status(400, None, b"", missing, WriteAct::Create)),
            ErpWriteError::CustomerMissing
        );
        // A 5xx stays ambiguous whatever the body says: it may have been written.
        assert!(matches!(
            ErpWriteError::from(write_status(500, None, b"", missing, WriteAct::Update)),
            ErpWriteError::Ambiguous { reason } if reason.contains("the update")
        ));
        assert!(matches!(
            ErpWriteError::from(write_transport(
                Transport::AnswerLost("reset".into()),
                WriteAct::Create
            )),
            ErpWriteError::Ambiguous { .. }
        ));
        assert!(matches!(
            write_from_read(ErpReadError::Protocol {
                excerpt: "x".into()
            }),
            ErpWriteError::Rejected { .. }
        ));
    }
}
