//! HTTP Basic credentials, shared by every flavour.

use axum::http::{HeaderMap, header};
use base64::Engine as _;

/// What a request's HTTP Basic credentials amount to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// A configured user with the right password.
    Allowed,
    /// A configured forbidden user; carries the user ID as sent.
    Forbidden(String),
    /// No credentials, or not a listed user and password.
    Denied,
}

/// Reads the `Authorization` header and checks it against `users`, then `forbidden`.
pub(crate) fn access(
    headers: &HeaderMap,
    users: &[(String, String)],
    forbidden: &[(String, String)],
) -> Access {
    let creds = basic_credentials(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    );
    match creds {
        Some((u, p)) if is_listed(users, &u, &p) => Access::Allowed,
        Some((u, p)) if is_listed(forbidden, &u, &p) => Access::Forbidden(u),
        _ => Access::Denied,
    }
}

/// Decodes `Authorization: Basic base64(user:password)`. `None` when the header is absent or
/// not valid Basic.
pub(crate) fn basic_credentials(header: Option<&str>) -> Option<(String, String)> {
    let header = header?.trim();
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Whether `(user, password)` is in `users`. User IDs compare case-insensitively (Sage user IDs
/// are upper-case); passwords exactly.
pub(crate) fn is_listed(users: &[(String, String)], user: &str, password: &str) -> bool {
    users
        .iter()
        .any(|(u, p)| u.eq_ignore_ascii_case(user) && p == password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_basic() {
        assert_eq!(
            basic_credentials(Some("Basic QURNSU46QURNSU4=")),
            Some(("ADMIN".into(), "ADMIN".into()))
        );
        assert_eq!(basic_credentials(Some("Bearer x")), None);
        assert_eq!(basic_credentials(Some("Basic !!!")), None);
        assert_eq!(basic_credentials(None), None);
        let users = vec![("WEBAPI".to_owned(), "WEBAPI".to_owned())];
        assert!(is_listed(&users, "webapi", "WEBAPI"));
        assert!(!is_listed(&users, "WEBAPI", "webapi"));
    }
}
