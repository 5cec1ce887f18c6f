//! How an account and an ERP customer are compared: the lookup keys both sides are reduced to
//! (the customer index stores them), and the score `match` and the duplicate guard give a pair.
//! One owner for the rule: the guard, `match` and the stores all take the keys from here.

use crate::normalize::{normalize_email, normalize_name, phone_digits};

/// The fewest digits a phone number needs to count as a match key: shorter ones (an
/// extension, a typo) would pair strangers.
pub const MIN_PHONE_DIGITS: usize = 7;

/// How many trailing digits of a phone number are compared: `+1 604 555 0199` and
/// `(604) 555-0199` are the same number.
pub const PHONE_DIGITS_COMPARED: usize = 10;

/// The keys a customer or an account is looked up by: its normalised name, its phone's
/// trailing digits and its normalised e-mail. Empty parts are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MatchKeys {
    /// [`normalize_name`] of the name; `None` when it has no letter or digit.
    pub name: Option<String>,
    /// The last [`PHONE_DIGITS_COMPARED`] digits of the phone, when it has at least
    /// [`MIN_PHONE_DIGITS`].
    pub phone: Option<String>,
    /// [`normalize_email`] of the e-mail.
    pub email: Option<String>,
}

impl MatchKeys {
    /// The keys of a name, a phone and an e-mail.
    pub fn of(name: &str, phone: Option<&str>, email: Option<&str>) -> Self {
        let name = Some(normalize_name(name)).filter(|n| !n.is_empty());
        let phone = phone.map(phone_digits).and_then(|digits| {
            let skip = digits.len().saturating_sub(PHONE_DIGITS_COMPARED);
            (digits.len() >= MIN_PHONE_DIGITS).then(|| digits[skip..].to_owned())
        });
        let email = email.and_then(normalize_email);
        Self { name, phone, email }
    }

    /// Whether there is nothing to look up by.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.phone.is_none() && self.email.is_none()
    }
}

/// Why a customer was proposed for an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MatchReason {
    /// The normalised names are equal.
    Name,
    /// The phones' compared digits are equal.
    Phone,
    /// The normalised e-mails are equal.
    Email,
    /// The postal codes are equal (ignoring case and spaces); only adds to another reason.
    PostalCode,
}

impl MatchReason {
    /// `name`, `phone`, `email`, `postal_code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Phone => "phone",
            Self::Email => "email",
            Self::PostalCode => "postal_code",
        }
    }

    /// What the reason adds to a score.
    pub fn weight(self) -> f64 {
        match self {
            Self::Name => 0.6,
            Self::Email => 0.3,
            Self::Phone => 0.25,
            Self::PostalCode => 0.15,
        }
    }
}

impl std::fmt::Display for MatchReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The score `match` proposes at or above unless told otherwise: a name alone, or an e-mail
/// and a phone together.
pub const DEFAULT_MIN_SCORE: f64 = 0.5;

/// The reasons `account` and `customer` share and their score (the reasons' weights, at most
/// 1.0). The postal code counts only beside another reason; with none, the score is 0 and the
/// reasons empty.
pub fn score(
    account: &MatchKeys,
    account_postal: Option<&str>,
    customer: &MatchKeys,
    customer_postal: Option<&str>,
) -> (f64, Vec<MatchReason>) {
    let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
    let mut reasons = Vec::new();
    if same(&account.name, &customer.name) {
        reasons.push(MatchReason::Name);
    }
    if same(&account.phone, &customer.phone) {
        reasons.push(MatchReason::Phone);
    }
    if same(&account.email, &customer.email) {
        reasons.push(MatchReason::Email);
    }
    let postal = |p: Option<&str>| {
        p.map(|p| {
            p.chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|p| !p.is_empty())
    };
    if !reasons.is_empty() {
        let (a, c) = (postal(account_postal), postal(customer_postal));
        if a.is_some() && a == c {
            reasons.push(MatchReason::PostalCode);
        }
    }
    let total: f64 = reasons.iter().map(|r| r.weight()).sum();
    (total.min(1.0), reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_reduce_name_phone_and_email() {
        let k = MatchKeys::of(
            "O'Brien Supply Co., Ltd.",
            Some("+1 (604) 555-0199"),
            Some(" Sales@OBrien.example "),
        );
        assert_eq!(k.name.as_deref(), Some("obrien supply"));
        assert_eq!(k.phone.as_deref(), Some("6045550199"));
        assert_eq!(k.email.as_deref(), Some("sales@obrien.example"));
        assert_eq!(
            k,
            MatchKeys::of(
                "OBRIEN SUPPLY",
                Some("604.555.0199"),
                Some("sales@obrien.example")
            )
        );
    }

    #[test]
    fn short_phones_and_empty_names_are_no_keys() {
        let k = MatchKeys::of("  ...  ", Some("x 123"), Some("nobody"));
        assert!(k.is_empty(), "{k:?}");
    }

    #[test]
    fn the_score_adds_weights_and_postal_code_only_helps() {
        let a = MatchKeys::of("Acme Ltd", Some("6045550199"), None);
        let c = MatchKeys::of("ACME", Some("604 555 0199"), None);
        let (s, r) = score(&a, Some("V6B 1A1"), &c, Some("v6b1a1"));
        assert_eq!(
            r,
            vec![
                MatchReason::Name,
                MatchReason::Phone,
                MatchReason::PostalCode
            ]
        );
        assert!((s - 1.0).abs() < 1e-9, "{s}");
        let stranger = MatchKeys::of("Other", None, None);
        let (s, r) = score(&a, Some("V6B 1A1"), &stranger, Some("V6B 1A1"));
        assert!(r.is_empty());
        assert!(s.abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn a_score_is_symmetric_and_between_0_and_1(
            n1 in ".{0,20}", n2 in ".{0,20}", p1 in "[0-9 ]{0,14}", p2 in "[0-9 ]{0,14}",
        ) {
            let a = MatchKeys::of(&n1, Some(&p1), None);
            let b = MatchKeys::of(&n2, Some(&p2), None);
            let (s1, r1) = score(&a, None, &b, None);
            let (s2, r2) = score(&b, None, &a, None);
            prop_assert_eq!(r1, r2);
            prop_assert!((s1 - s2).abs() < 1e-12);
            prop_assert!((0.0..=1.0).contains(&s1));
        }
    }
}
