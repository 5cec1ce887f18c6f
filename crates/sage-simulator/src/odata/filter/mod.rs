//! The OData `$filter` grammar the simulator understands: parse to an AST, evaluate against a
//! JSON record.
//!
//! Pure (no I/O, no server types) so it can be unit-tested on its own. Anything outside the
//! grammar below is a [`FilterError`], which the server answers with 400 `InvalidParameters`; the
//! parser never guesses.
//!
//! ```text
//! filter     := or_expr
//! or_expr    := and_expr ( "or" and_expr )*
//! and_expr   := comparison ( "and" comparison )*
//! comparison := unary ( ("eq"|"ne"|"gt"|"ge"|"lt"|"le") unary )?
//! unary      := "not" unary | primary
//! primary    := "(" or_expr ")" | function "(" args ")" | literal | property
//! function   := startswith(s, prefix) | endswith(s, suffix) | contains(s, part)
//!             | substringof(part, s)  (OData v3 order) | length(s) | tolower(s) | toupper(s) | trim(s)
//! literal    := 'string' ('' inside is one quote) | number (optional m/d/f/L suffix, v3 style)
//!             | true | false | null | datetime'…' | datetimeoffset'…' | bare 2016-12-31T12:00:00Z
//!             | Qualified.Enum.Type'Member' (treated as the string 'Member')
//! ```
//!
//! Operators and function names are lower-case, as in OData v4. Comparison is not associative:
//! `a eq b eq c` is an error. Types are checked when a record is evaluated: comparing a string
//! property with a number, or `not` on a string, is an error too.

mod eval;
mod lex;
mod parse;
#[cfg(test)]
mod tests;

pub use eval::{matches, matches_with};
pub use lex::parse_datetime;
pub(crate) use lex::{civil_from_days, days_from_civil};
pub use parse::parse;

/// Why a `$filter` could not be parsed or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid $filter: {0}")]
pub struct FilterError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError(msg.into()))
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

/// A built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `startswith(s, prefix)`
    StartsWith,
    /// `endswith(s, suffix)`
    EndsWith,
    /// `contains(s, part)` (OData v4)
    Contains,
    /// `substringof(part, s)` (OData v3; note the argument order)
    SubstringOf,
    /// `length(s)`
    Length,
    /// `tolower(s)`
    ToLower,
    /// `toupper(s)`
    ToUpper,
    /// `trim(s)`
    Trim,
}

impl Func {
    fn from_name(name: &str) -> Option<(Func, usize)> {
        Some(match name {
            "startswith" => (Func::StartsWith, 2),
            "endswith" => (Func::EndsWith, 2),
            "contains" => (Func::Contains, 2),
            "substringof" => (Func::SubstringOf, 2),
            "length" => (Func::Length, 1),
            "tolower" => (Func::ToLower, 1),
            "toupper" => (Func::ToUpper, 1),
            "trim" => (Func::Trim, 1),
            _ => return None,
        })
    }
}

/// A literal value in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A string (quotes removed, `''` un-doubled).
    String(String),
    /// A number (integer or decimal).
    Number(f64),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// A date-time, as seconds since 1970-01-01T00:00:00Z (a zone-less value is taken as UTC).
    DateTime(i64),
}

/// The parsed form of a `$filter`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A property of the record.
    Property(String),
    /// A literal.
    Literal(Literal),
    /// A function call.
    Call(Func, Vec<Expr>),
    /// `left op right`.
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    /// `left and right`.
    And(Box<Expr>, Box<Expr>),
    /// `left or right`.
    Or(Box<Expr>, Box<Expr>),
    /// `not expr`.
    Not(Box<Expr>),
}

impl Expr {
    /// Every property name the expression refers to (to check them against a schema).
    pub fn properties(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_properties(&mut out);
        out
    }

    fn collect_properties<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Property(p) => out.push(p),
            Expr::Literal(_) => {}
            Expr::Call(_, args) => args.iter().for_each(|a| a.collect_properties(out)),
            Expr::Compare(_, l, r) | Expr::And(l, r) | Expr::Or(l, r) => {
                l.collect_properties(out);
                r.collect_properties(out);
            }
            Expr::Not(e) => e.collect_properties(out),
        }
    }
}
