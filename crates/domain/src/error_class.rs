//! Machine-readable errors: every public error of the library has a stable snake_case
//! [`ErrorCode::code`] and an [`ErrorClass`], implemented beside the error with exhaustive
//! matches, so a new variant cannot compile without both.
//!
//! A service maps the class to its own status (HTTP 404, 409, …) and the code to its own
//! messages; the CLI maps them to its exit codes and hints. Neither the code nor the class names
//! a CLI flag or command.

use std::fmt;

/// The category of a failure. A closed set on purpose (not `#[non_exhaustive]`): a service
/// maps each class to its own status with an exhaustive match, and a new class would be a
/// breaking change that such a match must see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The input broke a rule, or a prerequisite is unmet (configuration, synced data).
    Invalid,
    /// Something named does not exist.
    NotFound,
    /// A conflict: already promoted, customer number taken, in progress, a lost race.
    Conflict,
    /// The ERP could not be reached, refused, or its outcome is unknown.
    Erp,
    /// A bug or an environment failure (the local database).
    Internal,
}

impl ErrorClass {
    /// `invalid`, `not_found`, `conflict`, `erp` or `internal`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::Erp => "erp",
            Self::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stable machine code and a class, for every public error of the library.
pub trait ErrorCode: std::error::Error {
    /// A stable snake_case code (`already_promoted`, `invalid_input`, …; docs/cli.md lists
    /// them all).
    fn code(&self) -> &'static str;

    /// The category.
    fn class(&self) -> ErrorClass;
}

/// Implements [`ErrorCode`] for an error whose every value is one code and class.
macro_rules! one_code {
    ($($ty:ty),+ => $code:literal, $class:ident) => {
        $(impl $crate::error_class::ErrorCode for $ty {
            fn code(&self) -> &'static str {
                $code
            }
            fn class(&self) -> $crate::error_class::ErrorClass {
                $crate::error_class::ErrorClass::$class
            }
        })+
    };
}
pub(crate) use one_code;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_have_snake_case_names() {
        let all = [
            ErrorClass::Invalid,
            ErrorClass::NotFound,
            ErrorClass::Conflict,
            ErrorClass::Erp,
            ErrorClass::Internal,
        ];
        let names: Vec<_> = all.iter().map(|c| c.to_string()).collect();
        assert_eq!(
            names,
            ["invalid", "not_found", "conflict", "erp", "internal"]
        );
    }
}
