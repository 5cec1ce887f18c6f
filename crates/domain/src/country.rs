//! ISO 3166-1 countries, accepted in either code form. Sage 300 is sent the alpha-2 form,
//! Sage 100 the alpha-3 form (`CountryCode` is 3 characters there).

use std::fmt;

/// Why a country was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an ISO 3166-1 country code: use alpha-2 (US) or alpha-3 (USA)")]
pub struct CountryCodeError(String);
crate::error_class::one_code!(CountryCodeError => "invalid_input", Invalid);

/// An ISO 3166-1 country, both forms available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountryCode(isocountry::CountryCode);

impl CountryCode {
    /// Parses an alpha-2 or alpha-3 code, any case.
    ///
    /// ```
    /// # use crm2sage_domain::CountryCode;
    /// let ca = CountryCode::parse("can").unwrap();
    /// assert_eq!((ca.alpha2(), ca.alpha3()), ("CA", "CAN"));
    /// ```
    ///
    /// # Errors
    /// [`CountryCodeError`] when the code names no country.
    pub fn parse(raw: &str) -> Result<Self, CountryCodeError> {
        let value = raw.trim().to_ascii_uppercase();
        let found = match value.len() {
            2 => isocountry::CountryCode::for_alpha2(&value).ok(),
            3 => isocountry::CountryCode::for_alpha3(&value).ok(),
            _ => None,
        };
        found
            .map(Self)
            .ok_or_else(|| CountryCodeError(raw.trim().to_owned()))
    }

    /// The alpha-2 form (`US`).
    pub fn alpha2(&self) -> &'static str {
        self.0.alpha2()
    }

    /// The alpha-3 form (`USA`).
    pub fn alpha3(&self) -> &'static str {
        self.0.alpha3()
    }

    /// The English short name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl fmt::Display for CountryCode {
    /// Shown as alpha-2.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.alpha2())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_parse_to_the_same_country() {
        let a = CountryCode::parse("us").unwrap();
        let b = CountryCode::parse("USA").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.alpha2(), "US");
        assert_eq!(a.alpha3(), "USA");
        assert_eq!(CountryCode::parse("GB").unwrap().alpha3(), "GBR");
    }

    #[test]
    fn unknown_or_malformed_codes_are_refused() {
        for bad in ["", "U", "XX", "XXX", "United States", "U5"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
    }
}
