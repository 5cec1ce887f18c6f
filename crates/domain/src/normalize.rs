//! The keys the duplicate guard compares (issue 21): a company name, a phone number and an
//! e-mail address reduced so that two spellings of one customer meet, and two customers do not.
//! Pure functions: no locale, no I/O.
//!
//! A **name** is reduced by, in order:
//! 1. Unicode compatibility decomposition (NFKD) with the combining marks dropped, so accents go
//!    (`Café` → `cafe`) and compatibility forms meet (`ｆｕｌｌ` → `full`, `ﬁ` → `fi`);
//! 2. lower case (and `ß` → `ss`);
//! 3. `&` as the word `and`; apostrophes and full stops deleted inside words (`O'Brien` →
//!    `obrien`, `A.B.C.` → `abc`); every other character that is not a letter or a digit a space;
//! 4. runs of whitespace as one space, none at either end;
//! 5. legal-form words dropped from the end, again and again (`co ltd`, `gmbh & co kg`; an `and`
//!    before a dropped one goes too: `Smith & Co.` is `smith`), but never the last word left (a
//!    company called `Company Inc` is `company`).
//!
//! ```
//! use crm2sage_domain::normalize_name;
//!
//! assert_eq!(normalize_name("O'Brien Supply Co., Ltd."), normalize_name("OBRIEN SUPPLY"));
//! assert_eq!(normalize_name("Café & Bar GmbH"), "cafe and bar");
//! ```

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Legal-form words dropped from the end of a name (lower case, after step 3, so `S.A.` is
/// `sa` and `Pty. Ltd.` is `pty ltd`).
pub const LEGAL_FORMS: &[&str] = &[
    "ab",
    "ag",
    "as",
    "asa",
    "bv",
    "bvba",
    "co",
    "company",
    "corp",
    "corporation",
    "cv",
    "gmbh",
    "inc",
    "incorporated",
    "kft",
    "kg",
    "kk",
    "lc",
    "limited",
    "llc",
    "llp",
    "lp",
    "ltd",
    "ltda",
    "nv",
    "oy",
    "oyj",
    "plc",
    "pte",
    "pty",
    "sa",
    "sarl",
    "sas",
    "spa",
    "sl",
    "srl",
    "sro",
];

/// The name `raw` reduced for comparison (see the module docs). Empty when `raw` has no letter or
/// digit.
pub fn normalize_name(raw: &str) -> String {
    let mut cleaned = String::with_capacity(raw.len());
    for c in raw.nfkd().filter(|c| !is_combining_mark(*c)) {
        match c {
            '&' => cleaned.push_str(" and "),
            '\'' | '\u{2019}' | '\u{2018}' | '`' | '.' => {}
            'ß' => cleaned.push_str("ss"),
            c if c.is_alphanumeric() => cleaned.extend(c.to_lowercase()),
            _ => cleaned.push(' '),
        }
    }
    let mut words: Vec<&str> = cleaned.split_whitespace().collect();
    let mut stripped = false;
    loop {
        match words.as_slice() {
            [_, .., last] if LEGAL_FORMS.contains(last) => {}
            // `Smith & Co.`, `… GmbH & Co. KG`: an `and` before a legal form goes with it.
            [_, .., "and"] if stripped => {}
            _ => break,
        }
        words.pop();
        stripped = true;
    }
    words.join(" ")
}

/// The digits of a phone number, in order (`+1 (604) 555-0199` → `16045550199`); full-width
/// and other compatibility digits count as their ASCII digit.
pub fn phone_digits(raw: &str) -> String {
    raw.nfkd().filter(char::is_ascii_digit).collect()
}

/// An e-mail address reduced for comparison: trimmed and lower-cased (the domain part is
/// case-insensitive, and no ERP keeps the local part's case meaningfully); `None` when it has
/// no `@` between two non-empty parts.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email: String = raw.trim().nfkc().flat_map(char::to_lowercase).collect();
    let (local, domain) = email.rsplit_once('@')?;
    (!local.is_empty() && !domain.is_empty() && !email.chars().any(char::is_whitespace))
        .then_some(email)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spellings_of_one_name_meet() {
        let same = [
            ("O'Brien Supply Co., Ltd.", "OBRIEN SUPPLY"),
            ("Café Müller GmbH", "Cafe Muller"),
            ("Smith & Sons Inc.", "smith and sons"),
            ("ACME Corporation", "Acme Corp."),
            ("  Northwind   Traders  Limited ", "northwind traders"),
            ("A.B.C. Pty. Ltd.", "ABC"),
            ("Straße AG", "Strasse"),
            ("ｆｕｌｌｗｉｄｔｈ Ｌｔｄ", "fullwidth"),
            ("Hanse GmbH & Co. KG", "hanse"),
            ("Smith & Co.", "Smith"),
            ("Müller-Lüdenscheidt S.A.R.L.", "Muller Ludenscheidt"),
        ];
        for (a, b) in same {
            assert_eq!(normalize_name(a), normalize_name(b), "{a:?} vs {b:?}");
        }
        assert_eq!(normalize_name("O'Brien Supply Co., Ltd."), "obrien supply");
    }

    #[test]
    fn different_names_stay_apart_and_a_name_is_never_emptied() {
        assert_ne!(normalize_name("Acme West"), normalize_name("Acme East"));
        assert_ne!(normalize_name("Co-op Foods"), normalize_name("Foods"));
        assert_eq!(normalize_name("Company Inc"), "company");
        assert_eq!(normalize_name("Smith and Sons"), "smith and sons");
        assert_eq!(normalize_name("Smith & Sons Inc."), "smith and sons");
        assert_eq!(normalize_name("Ltd"), "ltd");
        assert_eq!(
            normalize_name("Incorporated Holdings"),
            "incorporated holdings"
        );
        assert_eq!(normalize_name("!!! ... ---"), "");
        assert_eq!(normalize_name(""), "");
        assert_eq!(normalize_name("北京贸易有限公司"), "北京贸易有限公司");
    }

    #[test]
    fn phones_and_emails() {
        assert_eq!(phone_digits("+1 (604) 555-0199 ext. 7"), "160455501997");
        assert_eq!(phone_digits("１２３"), "123");
        assert_eq!(phone_digits("n/a"), "");
        assert_eq!(
            normalize_email("  Ana.Park@Northwind.EXAMPLE.com "),
            Some("ana.park@northwind.example.com".into())
        );
        assert_eq!(normalize_email("nobody"), None);
        assert_eq!(normalize_email("@x.com"), None);
        assert_eq!(normalize_email("a b@x.com"), None);
    }

    fn name() -> impl Strategy<Value = String> {
        "[A-Za-z0-9 &'.,()-]{0,40}"
    }

    proptest! {
        #[test]
        fn normalizing_twice_changes_nothing(raw in any::<String>()) {
            let once = normalize_name(&raw);
            prop_assert_eq!(normalize_name(&once), once.clone());
            prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
            prop_assert!(once.chars().all(|c| c == ' ' || c.is_alphanumeric()));
        }

        #[test]
        fn case_and_spacing_do_not_matter(raw in name()) {
            let base = normalize_name(&raw);
            prop_assert_eq!(normalize_name(&raw.to_ascii_uppercase()), base.clone());
            prop_assert_eq!(normalize_name(&raw.to_ascii_lowercase()), base.clone());
            let spaced = raw.split(' ').collect::<Vec<_>>().join("   ");
            prop_assert_eq!(normalize_name(&format!("  {spaced}\t")), base);
        }

        #[test]
        fn a_legal_form_at_the_end_does_not_matter(
            raw in "[A-Za-z][A-Za-z0-9 ]{0,30}",
            form in proptest::sample::select(LEGAL_FORMS),
            dotted in any::<bool>(),
        ) {
            let base = normalize_name(&raw);
            // A name ending in `and` loses it before a legal form (`Smith & Co.`), by design.
            prop_assume!(!base.ends_with(" and"));
            let suffix = if dotted { format!(", {}.", form.to_uppercase()) } else { format!(" {form}") };
            prop_assert_eq!(normalize_name(&format!("{raw}{suffix}")), base);
        }

        #[test]
        fn accents_do_not_matter(word in "[a-z]{1,12}") {
            let accented: String = word.chars().flat_map(|c| [c, '\u{301}']).collect();
            prop_assert_eq!(normalize_name(&accented), normalize_name(&word));
        }

        #[test]
        fn phone_digits_are_only_digits(raw in any::<String>()) {
            prop_assert!(phone_digits(&raw).chars().all(|c| c.is_ascii_digit()));
        }
    }
}
