//! The SData `where=` grammar the simulator understands: parse to an AST, check it against a
//! resource's columns, evaluate it against a row of text values.
//!
//! Pure (no I/O, no server types), unit-tested on its own, with the same discipline as the OData
//! `$filter` parser ([`crate::odata::filter`]): anything outside the grammar below is a
//! [`WhereError`], which the server answers with 400 `BadWhereSyntax`; the parser never guesses.
//!
//! ```text
//! where      := or_expr
//! or_expr    := and_expr ( "or" and_expr )*
//! and_expr   := primary ( "and" primary )*
//! primary    := "(" or_expr ")" | operand op operand
//! op         := "eq" | "ne" | "lt" | "le" | "gt" | "ge"
//! operand    := column | 'text' ('' inside is one quote) | number | @YYYY-MM-DD@
//! column     := letter or "_", then letters, digits, "_"
//! ```
//!
//! Keywords are lower-case (as SData writes them). The optional SData operators (`like`, `in`,
//! `between`), `not`, arithmetic and functions are refused. Comparisons are checked against the
//! column types ([`ColumnKind`]): a text or date column compares with a quoted text (or a date),
//! a numeric column with a number; a comparison needs at least one column. Text compares exactly
//! (case-sensitive, byte order); a null column compares as the empty text (or below every
//! number).

use std::cmp::Ordering;
use std::fmt;

pub use crate::odata::filter::CmpOp;

/// Why a `where` clause could not be parsed or does not fit the resource's columns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid where clause: {0}")]
pub struct WhereError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, WhereError> {
    Err(WhereError(msg.into()))
}

/// The type of a column, as far as comparisons are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Text (codes, names): compared exactly.
    Text,
    /// A decimal or integer (`CreditLimit`): compared numerically.
    Number,
    /// A date stored as `YYYY-MM-DD`: compared as that text.
    Date,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A column of the resource.
    Column(String),
    /// A quoted text (quotes removed, `''` un-doubled).
    Text(String),
    /// A number literal.
    Number(f64),
    /// A date literal `@2024-01-15@`, kept as `2024-01-15`.
    Date(String),
}

/// The parsed form of a `where` clause.
#[derive(Debug, Clone, PartialEq)]
pub enum Where {
    /// `left op right`.
    Compare(CmpOp, Operand, Operand),
    /// `left and right`.
    And(Box<Where>, Box<Where>),
    /// `left or right`.
    Or(Box<Where>, Box<Where>),
}

impl Where {
    /// Every column the clause refers to.
    pub fn columns(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Where::Compare(_, l, r) => {
                for o in [l, r] {
                    if let Operand::Column(c) = o {
                        out.push(c);
                    }
                }
            }
            Where::And(l, r) | Where::Or(l, r) => {
                l.collect(out);
                r.collect(out);
            }
        }
    }

    /// Checks every column exists (`kind_of` answers `None` for an unknown one) and every
    /// comparison compares like with like.
    ///
    /// # Errors
    /// A [`WhereError`] naming the first unknown column or mismatched comparison.
    pub fn check(&self, kind_of: &dyn Fn(&str) -> Option<ColumnKind>) -> Result<(), WhereError> {
        match self {
            Where::And(l, r) | Where::Or(l, r) => {
                l.check(kind_of)?;
                r.check(kind_of)
            }
            Where::Compare(_, l, r) => {
                let kind = |o: &Operand| -> Result<Option<ColumnKind>, WhereError> {
                    match o {
                        Operand::Column(c) => kind_of(c)
                            .map(Some)
                            .ok_or_else(|| WhereError(format!("unknown column '{c}'"))),
                        _ => Ok(None),
                    }
                };
                let (kl, kr) = (kind(l)?, kind(r)?);
                match (kl, kr) {
                    (None, None) => err(format!(
                        "the comparison {l} … {r} compares two literals; one side must be a column"
                    )),
                    (Some(a), Some(b)) if a == b => Ok(()),
                    (Some(a), Some(b)) => {
                        err(format!("cannot compare {l} ({a:?}) with {r} ({b:?})"))
                    }
                    (Some(k), None) => literal_fits(k, l, r),
                    (None, Some(k)) => literal_fits(k, r, l),
                }
            }
        }
    }

    /// Whether a row matches. `value_of` gives a column's value (`None` for null or absent).
    /// Call [`Where::check`] first: a literal that does not fit its column never matches.
    pub fn matches(&self, value_of: &dyn Fn(&str) -> (ColumnKind, Option<String>)) -> bool {
        match self {
            Where::And(l, r) => l.matches(value_of) && r.matches(value_of),
            Where::Or(l, r) => l.matches(value_of) || r.matches(value_of),
            Where::Compare(op, l, r) => {
                let (kl, vl) = resolve(l, value_of);
                let (kr, vr) = resolve(r, value_of);
                let kind = kl.or(kr).unwrap_or(ColumnKind::Text);
                let ord = match kind {
                    ColumnKind::Number => {
                        let n = |v: &Option<String>| {
                            v.as_deref().and_then(|s| s.trim().parse::<f64>().ok())
                        };
                        match (n(&vl), n(&vr)) {
                            (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
                            (None, None) => Ordering::Equal,
                            (None, Some(_)) => Ordering::Less,
                            (Some(_), None) => Ordering::Greater,
                        }
                    }
                    ColumnKind::Text | ColumnKind::Date => vl
                        .as_deref()
                        .unwrap_or_default()
                        .cmp(vr.as_deref().unwrap_or_default()),
                };
                match op {
                    CmpOp::Eq => ord == Ordering::Equal,
                    CmpOp::Ne => ord != Ordering::Equal,
                    CmpOp::Lt => ord == Ordering::Less,
                    CmpOp::Le => ord != Ordering::Greater,
                    CmpOp::Gt => ord == Ordering::Greater,
                    CmpOp::Ge => ord != Ordering::Less,
                }
            }
        }
    }
}

fn resolve(
    o: &Operand,
    value_of: &dyn Fn(&str) -> (ColumnKind, Option<String>),
) -> (Option<ColumnKind>, Option<String>) {
    match o {
        Operand::Column(c) => {
            let (k, v) = value_of(c);
            (Some(k), v)
        }
        Operand::Text(s) | Operand::Date(s) => (None, Some(s.clone())),
        Operand::Number(n) => (None, Some(n.to_string())),
    }
}

fn literal_fits(kind: ColumnKind, column: &Operand, lit: &Operand) -> Result<(), WhereError> {
    let ok = matches!(
        (kind, lit),
        (ColumnKind::Text, Operand::Text(_))
            | (ColumnKind::Number, Operand::Number(_))
            | (ColumnKind::Date, Operand::Date(_) | Operand::Text(_))
    );
    if ok {
        Ok(())
    } else {
        let want = match kind {
            ColumnKind::Text => "a quoted text",
            ColumnKind::Number => "a number",
            ColumnKind::Date => "a date (@YYYY-MM-DD@)",
        };
        err(format!("{column} is compared with {lit}; it takes {want}"))
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Column(c) => write!(f, "column {c}"),
            Operand::Text(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Operand::Number(n) => write!(f, "{n}"),
            Operand::Date(d) => write!(f, "@{d}@"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Word(String),
    Text(String),
    Number(f64),
    Date(String),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::LParen => write!(f, "'('"),
            Tok::RParen => write!(f, "')'"),
            Tok::Word(w) => write!(f, "'{w}'"),
            Tok::Text(s) => write!(f, "text '{s}'"),
            Tok::Number(n) => write!(f, "number {n}"),
            Tok::Date(d) => write!(f, "date @{d}@"),
        }
    }
}

fn lex(input: &str) -> Result<Vec<Tok>, WhereError> {
    let chars: Vec<char> = input.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\r' | '\n' => i += 1,
            '(' => {
                toks.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                toks.push(Tok::RParen);
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                let start = i;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return err(format!("unterminated text starting at position {start}"));
                        }
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                if chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    return err(format!(
                        "unexpected character '{}' after a text at position {i}",
                        chars[i]
                    ));
                }
                toks.push(Tok::Text(s));
            }
            '@' => {
                let start = i;
                let end = chars[i + 1..]
                    .iter()
                    .position(|c| *c == '@')
                    .map(|p| i + 1 + p)
                    .ok_or_else(|| {
                        WhereError(format!("unterminated date starting at position {start}"))
                    })?;
                let d: String = chars[i + 1..end].iter().collect();
                if !is_date(&d) {
                    return err(format!("malformed date @{d}@ (expected @YYYY-MM-DD@)"));
                }
                toks.push(Tok::Date(d));
                i = end + 1;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_digit() || *c == '.')
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                if chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    return err(format!("malformed number at position {start}"));
                }
                let n = text.parse::<f64>().map_err(|_| {
                    WhereError(format!("malformed number '{text}' at position {start}"))
                })?;
                toks.push(Tok::Number(n));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                toks.push(Tok::Word(chars[start..i].iter().collect()));
            }
            other => return err(format!("unexpected character '{other}' at position {i}")),
        }
    }
    Ok(toks)
}

fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

const KEYWORDS: &[&str] = &["and", "or", "eq", "ne", "lt", "le", "gt", "ge"];
const UNSUPPORTED: &[&str] = &[
    "like", "in", "between", "not", "add", "sub", "mul", "div", "mod",
];

// ---------------------------------------------------------------------------------------------
// Parser

/// Parses a `where` value (already percent-decoded).
///
/// # Errors
/// A [`WhereError`] describing the first thing outside the grammar.
pub fn parse(input: &str) -> Result<Where, WhereError> {
    let toks = lex(input)?;
    if toks.is_empty() {
        return err("empty where clause");
    }
    let mut p = Parser { toks, pos: 0 };
    let w = p.or_expr()?;
    if let Some(t) = p.toks.get(p.pos) {
        return err(format!("unexpected {t} after a complete condition"));
    }
    Ok(w)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(w)) if w == word)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or_expr(&mut self) -> Result<Where, WhereError> {
        let mut left = self.and_expr()?;
        while self.peek_word("or") {
            self.pos += 1;
            let right = self.and_expr()?;
            left = Where::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Where, WhereError> {
        let mut left = self.primary()?;
        while self.peek_word("and") {
            self.pos += 1;
            let right = self.primary()?;
            left = Where::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Where, WhereError> {
        if self.toks.get(self.pos) == Some(&Tok::LParen) {
            self.pos += 1;
            let w = self.or_expr()?;
            return match self.next() {
                Some(Tok::RParen) => Ok(w),
                Some(t) => err(format!("expected ')', found {t}")),
                None => err("expected ')', found the end"),
            };
        }
        let left = self.operand()?;
        let op = match self.next() {
            Some(Tok::Word(w)) => match w.as_str() {
                "eq" => CmpOp::Eq,
                "ne" => CmpOp::Ne,
                "lt" => CmpOp::Lt,
                "le" => CmpOp::Le,
                "gt" => CmpOp::Gt,
                "ge" => CmpOp::Ge,
                other if UNSUPPORTED.contains(&other.to_ascii_lowercase().as_str()) => {
                    return err(format!("the operator '{other}' is not supported"));
                }
                other => return err(format!("expected a comparison operator, found '{other}'")),
            },
            Some(t) => return err(format!("expected a comparison operator, found {t}")),
            None => return err("expected a comparison operator, found the end"),
        };
        let right = self.operand()?;
        if let Some(Tok::Word(w)) = self.toks.get(self.pos)
            && ["eq", "ne", "lt", "le", "gt", "ge"].contains(&w.as_str())
        {
            return err(format!(
                "comparisons do not chain ('{w}' after a comparison)"
            ));
        }
        Ok(Where::Compare(op, left, right))
    }

    fn operand(&mut self) -> Result<Operand, WhereError> {
        match self.next() {
            None => err("unexpected end of the where clause"),
            Some(Tok::Text(s)) => Ok(Operand::Text(s)),
            Some(Tok::Number(n)) => Ok(Operand::Number(n)),
            Some(Tok::Date(d)) => Ok(Operand::Date(d)),
            Some(Tok::Word(w)) => {
                if self.toks.get(self.pos) == Some(&Tok::LParen) {
                    return err(format!("functions are not supported ('{w}(')"));
                }
                let lower = w.to_ascii_lowercase();
                if KEYWORDS.contains(&lower.as_str()) || UNSUPPORTED.contains(&lower.as_str()) {
                    return err(format!(
                        "unexpected keyword '{w}' where a value was expected"
                    ));
                }
                if lower == "null" || lower == "true" || lower == "false" {
                    return err(format!("the literal '{w}' is not supported"));
                }
                Ok(Operand::Column(w))
            }
            Some(t) => err(format!("unexpected {t} where a value was expected")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::HashMap;

    fn kind(c: &str) -> Option<ColumnKind> {
        match c {
            "CreditLimit" => Some(ColumnKind::Number),
            "DateEstablished" => Some(ColumnKind::Date),
            "CustomerNo" | "ARDivisionNo" | "CustomerName" | "AddressLine2" => {
                Some(ColumnKind::Text)
            }
            _ => None,
        }
    }

    fn eval(w: &str, row: &[(&str, Option<&str>)]) -> bool {
        let parsed = parse(w).unwrap();
        parsed.check(&kind).unwrap();
        let map: HashMap<&str, Option<&str>> = row.iter().copied().collect();
        parsed.matches(&|c| {
            (
                kind(c).unwrap(),
                map.get(c).copied().flatten().map(str::to_owned),
            )
        })
    }

    #[test]
    fn parses_and_or_with_precedence() {
        let w = parse("ARDivisionNo eq '01' and CustomerNo eq 'ABC' or CustomerNo eq 'X'").unwrap();
        assert!(matches!(w, Where::Or(ref l, _) if matches!(**l, Where::And(..))));
        assert_eq!(
            w.columns(),
            vec!["ARDivisionNo", "CustomerNo", "CustomerNo"]
        );
        let g =
            parse("ARDivisionNo eq '01' and (CustomerNo eq 'ABC' or CustomerNo eq 'X')").unwrap();
        assert!(matches!(g, Where::And(..)));
    }

    #[test]
    fn quotes_are_doubled() {
        let w = parse("CustomerName eq 'O''BRIEN & SONS'").unwrap();
        assert_eq!(
            w,
            Where::Compare(
                CmpOp::Eq,
                Operand::Column("CustomerName".into()),
                Operand::Text("O'BRIEN & SONS".into())
            )
        );
        assert!(eval(
            "CustomerName eq 'O''BRIEN'",
            &[("CustomerName", Some("O'BRIEN"))]
        ));
    }

    #[test]
    fn evaluates_comparisons() {
        let row = [
            ("ARDivisionNo", Some("01")),
            ("CustomerNo", Some("ABF")),
            ("CreditLimit", Some("5000.00")),
            ("DateEstablished", Some("2020-03-01")),
            ("AddressLine2", None),
        ];
        assert!(eval("ARDivisionNo eq '01' and CustomerNo eq 'ABF'", &row));
        assert!(!eval("ARDivisionNo eq '00' and CustomerNo eq 'ABF'", &row));
        assert!(eval("ARDivisionNo eq '00' or CustomerNo eq 'ABF'", &row));
        assert!(eval("CustomerNo ne 'abf'", &row));
        assert!(eval("CustomerNo gt 'ABA' and CustomerNo lt 'ABZ'", &row));
        assert!(eval("CustomerNo ge 'ABF' and CustomerNo le 'ABF'", &row));
        assert!(eval("CreditLimit gt 999.5", &row));
        assert!(eval("CreditLimit eq 5000", &row));
        assert!(eval("DateEstablished ge @2020-01-01@", &row));
        assert!(eval("DateEstablished lt '2021-01-01'", &row));
        assert!(eval("AddressLine2 eq ''", &row));
        assert!(eval("'ABF' eq CustomerNo", &row));
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "CustomerNo",
            "CustomerNo eq",
            "CustomerNo eq 'ABC",
            "CustomerNo == 'ABC'",
            "CustomerNo like 'AB%'",
            "CustomerNo in ('A','B')",
            "not CustomerNo eq 'A'",
            "CustomerNo EQ 'A'",
            "CustomerNo eq 'A' AND CustomerNo eq 'B'",
            "CustomerNo eq 'A' and",
            "(CustomerNo eq 'A'",
            "CustomerNo eq 'A')",
            "CustomerNo eq 'A' eq 'B'",
            "upper(CustomerNo) eq 'A'",
            "CustomerNo eq \"A\"",
            "CustomerNo eq null",
            "CustomerNo eq 'A'x",
            "CustomerNo eq @2020-1-1@",
            "CustomerNo eq 12abc",
            "CustomerNo eq 'A'; drop",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn check_refuses_unknown_columns_and_mismatches() {
        for bad in [
            "Nope eq 'A'",
            "CustomerNo eq 1",
            "CreditLimit eq '1'",
            "'A' eq 'A'",
            "CustomerNo eq CreditLimit",
            "DateEstablished eq 3",
        ] {
            let w = parse(bad).unwrap();
            assert!(w.check(&kind).is_err(), "{bad:?} checked");
        }
        let e = parse("Nope eq 'A'").unwrap().check(&kind).unwrap_err();
        assert!(e.to_string().contains("Nope"), "{e}");
    }
}
