//! Money as an exact decimal: amounts read from the ERP's text, summed without a float, and
//! written back as the same decimal text.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

/// An amount of money, exact: a decimal of up to 28 significant digits, kept with the scale the
/// ERP wrote (`2.50` stays `2.50`). It has no currency of its own; whatever holds it says which.
///
/// ```
/// # use crm2sage_domain::Amount;
/// let a = Amount::parse("1200.50").unwrap();
/// let b = Amount::parse("-200.5").unwrap();
/// assert_eq!(a.checked_add(b).unwrap().to_string(), "1000.00");
/// assert_eq!(Amount::parse("1E+2").unwrap().to_string(), "100");
/// assert!(Amount::parse("12,50").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Amount(Decimal);

/// Why a text is not an [`Amount`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an exact decimal amount")]
pub struct AmountError {
    /// The refused text (cut to 40 characters).
    pub text: String,
}
crate::error_class::one_code!(AmountError => "invalid_input", Invalid);

/// A sum of amounts that does not fit in 28 significant digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a sum of amounts does not fit in 28 significant digits")]
pub struct AmountOverflow;
crate::error_class::one_code!(AmountOverflow => "invalid_input", Invalid);

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount(Decimal::ZERO);

    /// `text` as an amount: a plain decimal (`-12.50`) or scientific notation (`1.25E+1`, as a
    /// JSON number may be written). Surrounding spaces are ignored.
    ///
    /// # Errors
    /// [`AmountError`] for anything else, and for values that do not fit in 28 significant
    /// digits.
    pub fn parse(text: &str) -> Result<Self, AmountError> {
        let t = text.trim();
        let plain = !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+');
        let parsed = if plain {
            Decimal::from_str_exact(t).ok()
        } else if t.contains(['e', 'E']) {
            Decimal::from_scientific(t).ok()
        } else {
            None
        };
        parsed.map(Amount).ok_or_else(|| AmountError {
            text: t.chars().take(40).collect(),
        })
    }

    /// Whole units (`Amount::from_units(-5)` is `-5`).
    pub fn from_units(units: i64) -> Self {
        Self(Decimal::from(units))
    }

    /// The decimal (for arithmetic this type does not offer).
    pub fn as_decimal(self) -> Decimal {
        self.0
    }

    /// Wraps a decimal.
    pub fn from_decimal(value: Decimal) -> Self {
        Self(value)
    }

    /// `self + other`, exact.
    ///
    /// # Errors
    /// [`AmountOverflow`] when the sum does not fit.
    pub fn checked_add(self, other: Amount) -> Result<Amount, AmountOverflow> {
        self.0
            .checked_add(other.0)
            .map(Amount)
            .ok_or(AmountOverflow)
    }

    /// `self - other`, exact.
    ///
    /// # Errors
    /// [`AmountOverflow`] when the difference does not fit.
    pub fn checked_sub(self, other: Amount) -> Result<Amount, AmountOverflow> {
        self.0
            .checked_sub(other.0)
            .map(Amount)
            .ok_or(AmountOverflow)
    }

    /// Whether it is zero (`0.00` is).
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Whether it is below zero.
    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }
}

impl FromStr for Amount {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Amount {
    /// The exact decimal text, with the scale kept (`1000.00`); never exponent notation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(t: &str) -> Amount {
        Amount::parse(t).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parses_exact_text_and_keeps_the_scale() {
        assert_eq!(a("0.10").to_string(), "0.10");
        assert_eq!(a(" -3 ").to_string(), "-3");
        assert_eq!(
            a("12345678901234567890.12345678").to_string(),
            "12345678901234567890.12345678"
        );
        assert_eq!(a("1.5e1").to_string(), "15");
        assert_eq!(a("0.1").checked_add(a("0.2")), Ok(a("0.3")));
        for bad in [
            "",
            "abc",
            "1,5",
            "1.2.3",
            "NaN",
            "1e",
            "--1",
            "99999999999999999999999999999999",
        ] {
            assert!(Amount::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arithmetic_is_checked() {
        let max = Amount::from_decimal(Decimal::MAX);
        assert_eq!(max.checked_add(a("1")), Err(AmountOverflow));
        assert_eq!(a("5").checked_sub(a("7.5")), Ok(a("-2.5")));
        assert!(a("-0.01").is_negative());
        assert!(!a("-0").is_negative());
        assert!(a("0.00").is_zero());
    }
}
