//! Codes and keys: ERP company codes, reference codes, customer numbers, divisions,
//! salespersons and currencies.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::erp::ErpKind;

/// Why a company code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompanyCodeError {
    /// Nothing was given.
    #[error("is required (the ERP company's code, e.g. SAMLTD or ABC)")]
    Empty,
    /// Too long, or not letters and digits.
    #[error("must be 1-6 letters or digits (got `{0}`)")]
    Malformed(String),
}
crate::error_class::one_code!(CompanyCodeError => "invalid_input", Invalid);

/// The ERP company (Sage 300 org ID such as `SAMLTD`; Sage 100 company code such as `ABC`):
/// 1–6 ASCII letters or digits, upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompanyCode(String);

impl CompanyCode {
    /// Trims and upper-cases `raw`, then checks it.
    ///
    /// # Errors
    /// [`CompanyCodeError`] naming the rule.
    pub fn parse(raw: &str) -> Result<Self, CompanyCodeError> {
        let value = raw.trim().to_ascii_uppercase();
        if value.is_empty() {
            return Err(CompanyCodeError::Empty);
        }
        if value.len() > 6 || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CompanyCodeError::Malformed(raw.trim().to_owned()));
        }
        Ok(Self(value))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CompanyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a reference code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceCodeError {
    /// Blank.
    #[error("must not be empty")]
    Empty,
    /// Longer than [`ReferenceCode::MAX_LEN`].
    #[error("must be at most {max} characters (got {actual})", max = ReferenceCode::MAX_LEN)]
    TooLong {
        /// The length seen.
        actual: usize,
    },
    /// Holds a control character.
    #[error("must not contain control characters")]
    ControlCharacter,
}
crate::error_class::one_code!(ReferenceCodeError => "invalid_input", Invalid);

/// A code from an ERP table (customer group, terms, tax group, currency, language, division,
/// salesperson, ship method). The ERP's spelling is kept for display and for sending back;
/// equality, ordering and hashing ignore case, because Sage compares codes case-insensitively.
/// Inner spaces are allowed (`WI MIL`); outer spaces are trimmed.
#[derive(Debug, Clone)]
pub struct ReferenceCode {
    spelling: String,
    key: String,
}

impl ReferenceCode {
    /// The longest code of any Sage reference table we sync (Sage 100 ship methods are 15).
    pub const MAX_LEN: usize = 20;

    /// Trims `raw` and checks it.
    ///
    /// # Errors
    /// [`ReferenceCodeError`] naming the rule.
    pub fn parse(raw: &str) -> Result<Self, ReferenceCodeError> {
        let spelling = raw.trim();
        if spelling.is_empty() {
            return Err(ReferenceCodeError::Empty);
        }
        if spelling.chars().any(char::is_control) {
            return Err(ReferenceCodeError::ControlCharacter);
        }
        let actual = spelling.chars().count();
        if actual > Self::MAX_LEN {
            return Err(ReferenceCodeError::TooLong { actual });
        }
        Ok(Self {
            spelling: spelling.to_owned(),
            key: spelling.to_uppercase(),
        })
    }

    /// The code as the ERP spells it.
    pub fn as_str(&self) -> &str {
        &self.spelling
    }

    /// The case-folded form used for comparison (upper case).
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl PartialEq for ReferenceCode {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for ReferenceCode {}
impl Hash for ReferenceCode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}
impl PartialOrd for ReferenceCode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ReferenceCode {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}
impl fmt::Display for ReferenceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spelling)
    }
}

/// Why a customer number was refused. The message names the normalised value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CustomerNoError {
    /// Blank after trimming.
    #[error("is required")]
    Empty,
    /// Longer than the ERP allows.
    #[error("`{normalised}` is {actual} characters; {erp} allows at most {max}")]
    TooLong {
        /// The ERP whose rule was applied.
        erp: ErpKind,
        /// The value after trimming and upper-casing.
        normalised: String,
        /// The limit.
        max: usize,
        /// The length seen.
        actual: usize,
    },
    /// Holds a control character (Sage 300).
    #[error("must not contain control characters")]
    ControlCharacter,
    /// Holds something other than letters and digits (Sage 100).
    #[error("`{normalised}` may contain only letters A-Z and digits 0-9 for Sage 100")]
    NotAlphanumeric {
        /// The value after trimming and upper-casing.
        normalised: String,
    },
}
crate::error_class::one_code!(CustomerNoError => "invalid_input", Invalid);

/// An ERP customer number, normalised by the ERP's rules (see [`CustomerNo::parse_sage300`] and
/// [`CustomerNo::parse_sage100`]). Parsing a normalised value again yields the same value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerNo(String);

impl CustomerNo {
    /// Sage 300's customer-number length limit.
    pub const SAGE300_MAX: usize = 12;
    /// Sage 100's `CustomerNo` limit.
    pub const SAGE100_MAX: usize = 20;
    /// Sage 100 left-pads all-digit numbers of up to this many digits with zeros to this width.
    pub const SAGE100_NUMERIC_WIDTH: usize = 7;

    /// Parses by the rules of `erp`.
    ///
    /// # Errors
    /// As [`CustomerNo::parse_sage300`] or [`CustomerNo::parse_sage100`].
    pub fn parse(erp: ErpKind, raw: &str) -> Result<Self, CustomerNoError> {
        match erp {
            ErpKind::Sage300 => Self::parse_sage300(raw),
            ErpKind::Sage100 => Self::parse_sage100(raw),
        }
    }

    /// Sage 300: trim, upper-case; 1–12 characters; no control characters.
    ///
    /// ```
    /// # use crm2sage_domain::CustomerNo;
    /// assert_eq!(CustomerNo::parse_sage300(" o'brien ").unwrap().as_str(), "O'BRIEN");
    /// ```
    ///
    /// # Errors
    /// [`CustomerNoError::Empty`], [`CustomerNoError::TooLong`] or
    /// [`CustomerNoError::ControlCharacter`].
    pub fn parse_sage300(raw: &str) -> Result<Self, CustomerNoError> {
        let normalised = raw.trim().to_uppercase();
        let normalised = normalised.trim().to_owned();
        if normalised.is_empty() {
            return Err(CustomerNoError::Empty);
        }
        if normalised.chars().any(char::is_control) {
            return Err(CustomerNoError::ControlCharacter);
        }
        let actual = normalised.chars().count();
        if actual > Self::SAGE300_MAX {
            return Err(CustomerNoError::TooLong {
                erp: ErpKind::Sage300,
                normalised,
                max: Self::SAGE300_MAX,
                actual,
            });
        }
        Ok(Self(normalised))
    }

    /// Sage 100: trim, upper-case; 1–20 letters or digits; an all-digit value of 7 or fewer
    /// digits is left-padded with zeros to 7.
    ///
    /// ```
    /// # use crm2sage_domain::CustomerNo;
    /// assert_eq!(CustomerNo::parse_sage100("123").unwrap().as_str(), "0000123");
    /// assert_eq!(CustomerNo::parse_sage100("abf").unwrap().as_str(), "ABF");
    /// assert_eq!(CustomerNo::parse_sage100("12345678").unwrap().as_str(), "12345678");
    /// ```
    ///
    /// # Errors
    /// [`CustomerNoError::Empty`], [`CustomerNoError::NotAlphanumeric`] or
    /// [`CustomerNoError::TooLong`].
    pub fn parse_sage100(raw: &str) -> Result<Self, CustomerNoError> {
        let normalised = raw.trim().to_ascii_uppercase();
        if normalised.is_empty() {
            return Err(CustomerNoError::Empty);
        }
        if !normalised.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CustomerNoError::NotAlphanumeric { normalised });
        }
        let actual = normalised.len();
        if actual > Self::SAGE100_MAX {
            return Err(CustomerNoError::TooLong {
                erp: ErpKind::Sage100,
                normalised,
                max: Self::SAGE100_MAX,
                actual,
            });
        }
        if actual < Self::SAGE100_NUMERIC_WIDTH && normalised.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Self(format!(
                "{normalised:0>width$}",
                width = Self::SAGE100_NUMERIC_WIDTH
            )));
        }
        Ok(Self(normalised))
    }

    /// The normalised number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an AR division was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an AR division: expected 2 digits, 00-99")]
pub struct ArDivisionError(String);
crate::error_class::one_code!(ArDivisionError => "invalid_input", Invalid);

/// A Sage 100 AR division, `00`–`99`. A single digit is zero-filled as Sage does (`1` → `01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArDivision([u8; 2]);

impl ArDivision {
    /// Trims and checks `raw`.
    ///
    /// # Errors
    /// [`ArDivisionError`] unless `raw` is one or two digits.
    pub fn parse(raw: &str) -> Result<Self, ArDivisionError> {
        let value = raw.trim();
        match value.as_bytes() {
            [d] if d.is_ascii_digit() => Ok(Self([b'0', *d])),
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Ok(Self([*a, *b])),
            _ => Err(ArDivisionError(value.to_owned())),
        }
    }

    /// The two digits.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII digits by construction.
        std::str::from_utf8(&self.0).unwrap_or("00")
    }
}

impl Default for ArDivision {
    /// Division `00`, which Sage 100 uses when divisions are off.
    fn default() -> Self {
        Self(*b"00")
    }
}

impl fmt::Display for ArDivision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a salesperson reference was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a salesperson: expected DD-NNNN (division and number) or NNNN, the number 1-4 letters or digits"
)]
pub struct SalespersonRefError(String);
crate::error_class::one_code!(SalespersonRefError => "invalid_input", Invalid);

/// A Sage 100 salesperson: `DD-NNNN` (division and number) or `NNNN`, in which case the
/// customer's division is assumed ([`SalespersonRef::resolve`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SalespersonRef {
    division: Option<ArDivision>,
    number: String,
}

impl SalespersonRef {
    /// Parses `DD-NNNN` or `NNNN` (upper-cased).
    ///
    /// # Errors
    /// [`SalespersonRefError`] naming the value.
    pub fn parse(raw: &str) -> Result<Self, SalespersonRefError> {
        let value = raw.trim().to_ascii_uppercase();
        let bad = || SalespersonRefError(raw.trim().to_owned());
        let (division, number) = match value.split_once('-') {
            Some((dd, nnnn)) if dd.len() == 2 => {
                (Some(ArDivision::parse(dd).map_err(|_| bad())?), nnnn)
            }
            Some(_) => return Err(bad()),
            None => (None, value.as_str()),
        };
        if number.is_empty()
            || number.len() > 4
            || !number.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(bad());
        }
        Ok(Self {
            division,
            number: number.to_owned(),
        })
    }

    /// The division, when one was typed.
    pub fn division(&self) -> Option<ArDivision> {
        self.division
    }

    /// The salesperson number.
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The full reference, assuming `customer_division` when none was typed.
    pub fn resolve(&self, customer_division: ArDivision) -> Self {
        Self {
            division: Some(self.division.unwrap_or(customer_division)),
            number: self.number.clone(),
        }
    }
}

impl fmt::Display for SalespersonRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.division {
            Some(dd) => write!(f, "{dd}-{}", self.number),
            None => f.write_str(&self.number),
        }
    }
}

/// Why a currency code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an ISO 4217 currency code: expected 3 letters, e.g. USD")]
pub struct CurrencyCodeError(String);
crate::error_class::one_code!(CurrencyCodeError => "invalid_input", Invalid);

/// An ISO 4217 currency code: three letters, upper-cased. Whether the ERP knows it is checked
/// against synced reference data at promotion time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode(String);

impl CurrencyCode {
    /// Trims, upper-cases and checks `raw`.
    ///
    /// # Errors
    /// [`CurrencyCodeError`] unless `raw` is three ASCII letters.
    pub fn parse(raw: &str) -> Result<Self, CurrencyCodeError> {
        let value = raw.trim().to_ascii_uppercase();
        if value.len() == 3 && value.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(Self(value))
        } else {
            Err(CurrencyCodeError(raw.trim().to_owned()))
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sage300_customer_numbers_are_trimmed_and_upper_cased() {
        assert_eq!(
            CustomerNo::parse_sage300("  barmart ").unwrap().as_str(),
            "BARMART"
        );
        assert_eq!(
            CustomerNo::parse_sage300("Z_POSTMAN").unwrap().as_str(),
            "Z_POSTMAN"
        );
        assert_eq!(
            CustomerNo::parse_sage300("o'brien").unwrap().as_str(),
            "O'BRIEN"
        );
        assert_eq!(CustomerNo::parse_sage300("a b").unwrap().as_str(), "A B");
    }

    #[test]
    fn sage300_customer_numbers_have_limits() {
        assert_eq!(
            CustomerNo::parse_sage300("   "),
            Err(CustomerNoError::Empty)
        );
        assert!(CustomerNo::parse_sage300("ABCDEFGHIJKL").is_ok());
        let err = CustomerNo::parse_sage300("abcdefghijklm").unwrap_err();
        assert_eq!(
            err,
            CustomerNoError::TooLong {
                erp: ErpKind::Sage300,
                normalised: "ABCDEFGHIJKLM".into(),
                max: 12,
                actual: 13
            }
        );
        assert!(err.to_string().contains("ABCDEFGHIJKLM"));
        assert_eq!(
            CustomerNo::parse_sage300("A\u{7}B"),
            Err(CustomerNoError::ControlCharacter)
        );
    }

    #[test]
    fn sage100_customer_numbers_pad_short_numbers() {
        assert_eq!(
            CustomerNo::parse_sage100("123").unwrap().as_str(),
            "0000123"
        );
        assert_eq!(CustomerNo::parse_sage100("0").unwrap().as_str(), "0000000");
        assert_eq!(
            CustomerNo::parse_sage100("1234567").unwrap().as_str(),
            "1234567"
        );
        assert_eq!(
            CustomerNo::parse_sage100("12345678").unwrap().as_str(),
            "12345678"
        );
        assert_eq!(
            CustomerNo::parse_sage100("abc12").unwrap().as_str(),
            "ABC12"
        );
        assert_eq!(CustomerNo::parse_sage100("A1").unwrap().as_str(), "A1");
    }

    #[test]
    fn sage100_customer_numbers_are_alphanumeric_and_at_most_20() {
        assert!(matches!(
            CustomerNo::parse_sage100("AB-1"),
            Err(CustomerNoError::NotAlphanumeric { .. })
        ));
        assert!(matches!(
            CustomerNo::parse_sage100("ÉCOLE"),
            Err(CustomerNoError::NotAlphanumeric { .. })
        ));
        assert!(CustomerNo::parse_sage100(&"9".repeat(20)).is_ok());
        assert!(matches!(
            CustomerNo::parse_sage100(&"A".repeat(21)),
            Err(CustomerNoError::TooLong { max: 20, .. })
        ));
        assert_eq!(CustomerNo::parse_sage100(""), Err(CustomerNoError::Empty));
    }

    #[test]
    fn reference_codes_compare_case_insensitively_and_keep_spelling() {
        let a = ReferenceCode::parse(" wi mil ").unwrap();
        let b = ReferenceCode::parse("WI MIL").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "wi mil");
        assert_eq!(a.key(), "WI MIL");
        let mut set = std::collections::HashSet::new();
        set.insert(a);
        assert!(set.contains(&b));
        assert_eq!(ReferenceCode::parse(""), Err(ReferenceCodeError::Empty));
        assert!(ReferenceCode::parse(&"X".repeat(21)).is_err());
        assert!(ReferenceCode::parse("A\tB").is_err());
    }

    #[test]
    fn divisions_are_two_digits() {
        assert_eq!(ArDivision::parse("01").unwrap().as_str(), "01");
        assert_eq!(ArDivision::parse("7").unwrap().as_str(), "07");
        assert_eq!(ArDivision::default().as_str(), "00");
        for bad in ["", "100", "A1", "-1", "1 "] {
            if bad == "1 " {
                assert!(ArDivision::parse(bad).is_ok());
            } else {
                assert!(ArDivision::parse(bad).is_err(), "{bad}");
            }
        }
    }

    #[test]
    fn salespersons_take_a_division_or_assume_the_customers() {
        let full = SalespersonRef::parse("01-0100").unwrap();
        assert_eq!(full.division(), Some(ArDivision::parse("01").unwrap()));
        assert_eq!(full.number(), "0100");
        assert_eq!(full.to_string(), "01-0100");
        let short = SalespersonRef::parse("0200").unwrap();
        assert_eq!(short.division(), None);
        let resolved = short.resolve(ArDivision::parse("02").unwrap());
        assert_eq!(resolved.to_string(), "02-0200");
        assert_eq!(full.resolve(ArDivision::parse("02").unwrap()), full);
        for bad in [
            "", "1-0100", "01-", "01-01000", "AB-0100", "01 0100", "01-01-01",
        ] {
            assert!(SalespersonRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn currency_and_company_codes() {
        assert_eq!(CurrencyCode::parse("usd").unwrap().as_str(), "USD");
        assert!(CurrencyCode::parse("US").is_err());
        assert!(CurrencyCode::parse("US1").is_err());
        assert_eq!(CompanyCode::parse("samltd").unwrap().as_str(), "SAMLTD");
        assert_eq!(CompanyCode::parse(""), Err(CompanyCodeError::Empty));
        assert!(CompanyCode::parse("SAM LTD").is_err());
        assert!(CompanyCode::parse("TOOLONG1").is_err());
    }
}
