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

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Map, Value};

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

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Ident(String),
    Str(String),
    /// An identifier immediately followed by a quoted string: `datetime'…'`, `Ns.Enum'X'`.
    Prefixed(String, String),
    Number(f64),
    DateTime(i64),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::LParen => write!(f, "'('"),
            Tok::RParen => write!(f, "')'"),
            Tok::Comma => write!(f, "','"),
            Tok::Ident(s) => write!(f, "'{s}'"),
            Tok::Str(s) => write!(f, "string '{s}'"),
            Tok::Prefixed(p, s) => write!(f, "{p}'{s}'"),
            Tok::Number(n) => write!(f, "number {n}"),
            Tok::DateTime(_) => write!(f, "a date-time"),
        }
    }
}

fn lex(input: &str) -> Result<Vec<Tok>, FilterError> {
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
            ',' => {
                toks.push(Tok::Comma);
                i += 1;
            }
            '\'' => {
                let (s, next) = lex_string(&chars, i)?;
                toks.push(Tok::Str(s));
                i = next;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                if let Some((secs, next)) = lex_bare_datetime(&chars, i) {
                    toks.push(Tok::DateTime(secs));
                    i = next;
                } else {
                    let (n, next) = lex_number(&chars, i)?;
                    toks.push(Tok::Number(n));
                    i = next;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if chars.get(i) == Some(&'\'') {
                    let (s, next) = lex_string(&chars, i)?;
                    toks.push(Tok::Prefixed(word, s));
                    i = next;
                } else {
                    toks.push(Tok::Ident(word));
                }
            }
            other => return err(format!("unexpected character '{other}' at position {i}")),
        }
    }
    Ok(toks)
}

/// Lexes `'…'` starting at the opening quote; returns the content and the index after the close.
fn lex_string(chars: &[char], start: usize) -> Result<(String, usize), FilterError> {
    let mut s = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return err(format!("unterminated string starting at position {start}")),
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                s.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((s, i + 1)),
            Some(c) => {
                s.push(*c);
                i += 1;
            }
        }
    }
}

fn lex_number(chars: &[char], start: usize) -> Result<(f64, usize), FilterError> {
    let mut i = start;
    if chars[i] == '-' {
        i += 1;
    }
    while chars.get(i).is_some_and(char::is_ascii_digit) {
        i += 1;
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        if !chars.get(i).is_some_and(char::is_ascii_digit) {
            return err(format!("malformed number at position {start}"));
        }
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        i += 1;
        if matches!(chars.get(i), Some('+' | '-')) {
            i += 1;
        }
        if !chars.get(i).is_some_and(char::is_ascii_digit) {
            return err(format!("malformed number at position {start}"));
        }
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
    }
    let text: String = chars[start..i].iter().collect();
    if matches!(
        chars.get(i),
        Some('m' | 'M' | 'd' | 'D' | 'f' | 'F' | 'l' | 'L')
    ) {
        i += 1;
    }
    if chars
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
    {
        return err(format!("malformed number at position {start}"));
    }
    text.parse::<f64>()
        .map(|n| (n, i))
        .map_err(|_| FilterError(format!("malformed number at position {start}")))
}

/// A bare date (`2016-12-31`) or date-time (`2016-12-31T12:00:00Z`) starting at `start`.
fn lex_bare_datetime(chars: &[char], start: usize) -> Option<(i64, usize)> {
    // Only a run of date-ish characters can be a date; the lexer falls back to a number otherwise.
    let mut end = start;
    while end < chars.len()
        && (chars[end].is_ascii_digit() || matches!(chars[end], '-' | ':' | '.' | 'T' | 'Z' | '+'))
    {
        end += 1;
    }
    let text: String = chars[start..end].iter().collect();
    if text.len() < 10 || text.as_bytes().get(4) != Some(&b'-') {
        return None;
    }
    parse_datetime(&text).map(|secs| (secs, end))
}

/// Parses an ISO-8601 date or date-time (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]`, with an
/// optional `Z` or `±HH:MM`) to seconds since the Unix epoch, UTC. A value without a zone is UTC.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let s = text.get(from..from + len)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, mo, d) * 86_400;
    let mut i = 10;
    if i == b.len() {
        return Some(secs);
    }
    if b[i] != b'T' {
        return None;
    }
    i += 1;
    let (h, mi) = (num(i, 2)?, num(i + 3, 2)?);
    if b.get(i + 2) != Some(&b':') || h > 23 || mi > 59 {
        return None;
    }
    secs += h * 3600 + mi * 60;
    i += 5;
    if b.get(i) == Some(&b':') {
        let s = num(i + 1, 2)?;
        if s > 59 {
            return None;
        }
        secs += s;
        i += 3;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let frac_start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == frac_start {
                return None;
            }
        }
    }
    match b.get(i) {
        None => Some(secs),
        Some(b'Z') if i + 1 == b.len() => Some(secs),
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let off = num(i + 1, 2)? * 3600 + num(i + 4, 2)? * 60;
            Some(if *sign == b'+' {
                secs - off
            } else {
                secs + off
            })
        }
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01 (inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

// ---------------------------------------------------------------------------------------------
// Parser

/// Parses a `$filter` value (already percent-decoded).
///
/// # Errors
/// A [`FilterError`] describing the first thing outside the grammar.
pub fn parse(input: &str) -> Result<Expr, FilterError> {
    let toks = lex(input)?;
    if toks.is_empty() {
        return err("empty filter");
    }
    let mut p = Parser { toks, pos: 0 };
    let expr = p.or_expr()?;
    if let Some(t) = p.peek() {
        return err(format!("unexpected {t} after a complete expression"));
    }
    Ok(expr)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w == word)
    }

    fn expect(&mut self, tok: &Tok) -> Result<(), FilterError> {
        match self.next() {
            Some(t) if &t == tok => Ok(()),
            Some(t) => err(format!("expected {tok}, found {t}")),
            None => err(format!("expected {tok}, found the end")),
        }
    }

    fn or_expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and_expr()?;
        while self.peek_word("or") {
            self.pos += 1;
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.comparison()?;
        while self.peek_word("and") {
            self.pos += 1;
            let right = self.comparison()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Expr, FilterError> {
        let left = self.unary()?;
        let op = match self.peek() {
            Some(Tok::Ident(w)) => match w.as_str() {
                "eq" => CmpOp::Eq,
                "ne" => CmpOp::Ne,
                "gt" => CmpOp::Gt,
                "ge" => CmpOp::Ge,
                "lt" => CmpOp::Lt,
                "le" => CmpOp::Le,
                "and" | "or" => return Ok(left),
                other => return err(format!("unknown operator '{other}'")),
            },
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.unary()?;
        Ok(Expr::Compare(op, Box::new(left), Box::new(right)))
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.peek_word("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        match self.next() {
            None => err("unexpected end of filter"),
            Some(Tok::LParen) => {
                let e = self.or_expr()?;
                self.expect(&Tok::RParen)?;
                Ok(e)
            }
            Some(Tok::Str(s)) => Ok(Expr::Literal(Literal::String(s))),
            Some(Tok::Number(n)) => Ok(Expr::Literal(Literal::Number(n))),
            Some(Tok::DateTime(s)) => Ok(Expr::Literal(Literal::DateTime(s))),
            Some(Tok::Prefixed(prefix, s)) => match prefix.as_str() {
                "datetime" | "datetimeoffset" => parse_datetime(&s)
                    .map(|secs| Expr::Literal(Literal::DateTime(secs)))
                    .ok_or_else(|| FilterError(format!("malformed date-time '{s}'"))),
                p if p.contains('.') && !p.starts_with('.') && !p.ends_with('.') => {
                    Ok(Expr::Literal(Literal::String(s)))
                }
                p => err(format!("unknown literal prefix '{p}'")),
            },
            Some(Tok::Ident(word)) => {
                if self.peek() == Some(&Tok::LParen) {
                    let Some((func, arity)) = Func::from_name(&word) else {
                        return err(format!("unknown function '{word}'"));
                    };
                    self.pos += 1;
                    let mut args = vec![self.or_expr()?];
                    while self.peek() == Some(&Tok::Comma) {
                        self.pos += 1;
                        args.push(self.or_expr()?);
                    }
                    self.expect(&Tok::RParen)?;
                    if args.len() != arity {
                        return err(format!(
                            "{word} takes {arity} argument(s), got {}",
                            args.len()
                        ));
                    }
                    return Ok(Expr::Call(func, args));
                }
                match word.as_str() {
                    "true" => Ok(Expr::Literal(Literal::Bool(true))),
                    "false" => Ok(Expr::Literal(Literal::Bool(false))),
                    "null" => Ok(Expr::Literal(Literal::Null)),
                    "eq" | "ne" | "gt" | "ge" | "lt" | "le" | "and" | "or" | "not" => {
                        err(format!("unexpected operator '{word}'"))
                    }
                    w if w.contains('.') => err(format!("unsupported property path '{w}'")),
                    _ => Ok(Expr::Property(word)),
                }
            }
            Some(t) => err(format!("unexpected {t}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    DateTime(i64),
}

impl Val {
    fn type_name(&self) -> &'static str {
        match self {
            Val::Str(_) => "string",
            Val::Num(_) => "number",
            Val::Bool(_) => "boolean",
            Val::Null => "null",
            Val::DateTime(_) => "date-time",
        }
    }
}

fn from_json(v: Option<&Value>) -> Result<Val, FilterError> {
    Ok(match v {
        None | Some(Value::Null) => Val::Null,
        Some(Value::String(s)) => Val::Str(s.clone()),
        Some(Value::Number(n)) => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
        Some(Value::Bool(b)) => Val::Bool(*b),
        Some(Value::Array(_) | Value::Object(_)) => {
            return err("cannot filter on a collection or complex property");
        }
    })
}

/// Evaluates a parsed filter against one record. A property missing from the record is `null`.
///
/// # Errors
/// A [`FilterError`] on a type mismatch (e.g. a string compared with a number).
pub fn matches(expr: &Expr, record: &Map<String, Value>) -> Result<bool, FilterError> {
    matches_with(expr, &|name| record.get(name))
}

/// As [`matches()`], reading properties through `get` (e.g. a sparse record with defaults behind
/// it). `None` is `null`.
///
/// # Errors
/// A [`FilterError`] on a type mismatch (e.g. a string compared with a number).
pub fn matches_with<'a>(
    expr: &Expr,
    get: &dyn Fn(&str) -> Option<&'a Value>,
) -> Result<bool, FilterError> {
    match eval(expr, get)? {
        Val::Bool(b) => Ok(b),
        Val::Null => Ok(false),
        other => err(format!(
            "the filter is a {}, not a boolean",
            other.type_name()
        )),
    }
}

fn eval<'a>(expr: &Expr, rec: &dyn Fn(&str) -> Option<&'a Value>) -> Result<Val, FilterError> {
    Ok(match expr {
        Expr::Property(p) => from_json(rec(p))?,
        Expr::Literal(l) => match l {
            Literal::String(s) => Val::Str(s.clone()),
            Literal::Number(n) => Val::Num(*n),
            Literal::Bool(b) => Val::Bool(*b),
            Literal::Null => Val::Null,
            Literal::DateTime(s) => Val::DateTime(*s),
        },
        Expr::And(l, r) => Val::Bool(as_bool(eval(l, rec)?)? && as_bool(eval(r, rec)?)?),
        Expr::Or(l, r) => Val::Bool(as_bool(eval(l, rec)?)? || as_bool(eval(r, rec)?)?),
        Expr::Not(e) => Val::Bool(!as_bool(eval(e, rec)?)?),
        Expr::Compare(op, l, r) => Val::Bool(compare(*op, eval(l, rec)?, eval(r, rec)?)?),
        Expr::Call(f, args) => {
            let vals = args
                .iter()
                .map(|a| eval(a, rec))
                .collect::<Result<Vec<_>, _>>()?;
            call(*f, vals)?
        }
    })
}

fn as_bool(v: Val) -> Result<bool, FilterError> {
    match v {
        Val::Bool(b) => Ok(b),
        // A null operand (e.g. a function on a null property) is false, as in OData.
        Val::Null => Ok(false),
        other => err(format!("expected a boolean, found a {}", other.type_name())),
    }
}

fn call(f: Func, vals: Vec<Val>) -> Result<Val, FilterError> {
    let mut strs = Vec::with_capacity(vals.len());
    for v in vals {
        match v {
            Val::Str(s) => strs.push(s),
            Val::Null => return Ok(Val::Null),
            other => {
                return err(format!(
                    "{f:?} expects strings, found a {}",
                    other.type_name()
                ));
            }
        }
    }
    Ok(match (f, strs.as_slice()) {
        (Func::StartsWith, [s, p]) => Val::Bool(s.starts_with(p.as_str())),
        (Func::EndsWith, [s, p]) => Val::Bool(s.ends_with(p.as_str())),
        (Func::Contains, [s, p]) => Val::Bool(s.contains(p.as_str())),
        (Func::SubstringOf, [p, s]) => Val::Bool(s.contains(p.as_str())),
        (Func::Length, [s]) => Val::Num(s.chars().count() as f64),
        (Func::ToLower, [s]) => Val::Str(s.to_lowercase()),
        (Func::ToUpper, [s]) => Val::Str(s.to_uppercase()),
        (Func::Trim, [s]) => Val::Str(s.trim().to_owned()),
        _ => return err(format!("wrong number of arguments for {f:?}")),
    })
}

fn compare(op: CmpOp, l: Val, r: Val) -> Result<bool, FilterError> {
    let ord: Option<Ordering> = match (&l, &r) {
        (Val::Null, Val::Null) => Some(Ordering::Equal),
        (Val::Null, _) | (_, Val::Null) => None,
        (Val::Str(a), Val::Str(b)) => Some(a.cmp(b)),
        (Val::Num(a), Val::Num(b)) => a.partial_cmp(b),
        (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
        (Val::DateTime(a), Val::DateTime(b)) => Some(a.cmp(b)),
        (Val::Str(s), Val::DateTime(d)) => Some(date_of(s)?.cmp(d)),
        (Val::DateTime(d), Val::Str(s)) => Some(d.cmp(&date_of(s)?)),
        _ => {
            return err(format!(
                "cannot compare a {} with a {}",
                l.type_name(),
                r.type_name()
            ));
        }
    };
    Ok(match (op, ord) {
        (CmpOp::Eq, o) => o == Some(Ordering::Equal),
        (CmpOp::Ne, o) => o != Some(Ordering::Equal),
        (_, None) => false,
        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
        (CmpOp::Ge, Some(o)) => o != Ordering::Less,
        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
        (CmpOp::Le, Some(o)) => o != Ordering::Greater,
    })
}

fn date_of(s: &str) -> Result<i64, FilterError> {
    parse_datetime(s)
        .ok_or_else(|| FilterError(format!("cannot compare the string '{s}' with a date-time")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn rec() -> Map<String, Value> {
        json!({
            "CustomerNumber": "O'BRIEN",
            "GroupCode": "RTL",
            "CreditLimit": 5000.0,
            "Count": 3,
            "Taxable": true,
            "Nothing": null,
            "DateLastMaintained": "2024-03-01T00:00:00Z",
            "StartDate": "2020-01-15T00:00:00",
            "Details": [],
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    fn check(f: &str) -> bool {
        matches(&parse(f).unwrap(), &rec()).unwrap()
    }

    fn bad(f: &str) {
        assert!(
            parse(f).is_err(),
            "expected a parse error for {f:?}, got {:?}",
            parse(f)
        );
    }

    #[test]
    fn comparisons() {
        assert!(check("GroupCode eq 'RTL'"));
        assert!(!check("GroupCode eq 'WHL'"));
        assert!(check("GroupCode ne 'WHL'"));
        assert!(check("GroupCode gt 'A'"));
        assert!(check("GroupCode ge 'RTL'"));
        assert!(check("GroupCode lt 'S'"));
        assert!(check("GroupCode le 'RTL'"));
        assert!(check("CreditLimit gt 4999.99m"));
        assert!(check("CreditLimit eq 5000"));
        assert!(check("Count le 3"));
        assert!(check("Count gt -1"));
        assert!(check("Count lt 1e3"));
        assert!(check("Taxable eq true"));
        assert!(check("Nothing eq null"));
        assert!(check("GroupCode ne null"));
        assert!(check("Missing eq null"));
        assert!(!check("Nothing gt 'A'"));
    }

    #[test]
    fn quote_inside_a_literal() {
        assert!(check("CustomerNumber eq 'O''BRIEN'"));
        assert!(!check("CustomerNumber eq 'O''''BRIEN'"));
        assert_eq!(
            parse("X eq ''''").unwrap(),
            Expr::Compare(
                CmpOp::Eq,
                Box::new(Expr::Property("X".into())),
                Box::new(Expr::Literal(Literal::String("'".into())))
            )
        );
    }

    #[test]
    fn logic_and_precedence() {
        assert!(check(
            "GroupCode eq 'WHL' or GroupCode eq 'RTL' and Count eq 3"
        ));
        assert!(!check(
            "(GroupCode eq 'WHL' or GroupCode eq 'RTL') and Count eq 4"
        ));
        assert!(check("not (GroupCode eq 'WHL')"));
        assert!(check("not startswith(GroupCode,'W')"));
        assert!(check("((GroupCode eq 'RTL'))"));
        // `and` binds tighter than `or`.
        let e = parse("A eq 1 or B eq 2 and C eq 3").unwrap();
        assert!(matches!(e, Expr::Or(_, r) if matches!(*r, Expr::And(_, _))));
    }

    #[test]
    fn functions() {
        assert!(check("startswith(CustomerNumber, 'O''B')"));
        assert!(check("endswith(CustomerNumber,'IEN')"));
        assert!(check("contains(CustomerNumber,'BRI')"));
        assert!(check("substringof('BRI', CustomerNumber)"));
        assert!(!check("substringof(CustomerNumber, 'BRI')"));
        assert!(check("length(GroupCode) eq 3"));
        assert!(check("tolower(GroupCode) eq 'rtl'"));
        assert!(check("toupper('rtl') eq GroupCode"));
        assert!(check("trim('  RTL ') eq GroupCode"));
        assert!(!check("startswith(Nothing,'A')"));
    }

    #[test]
    fn dates() {
        assert!(check("DateLastMaintained eq 2024-03-01T00:00:00Z"));
        assert!(check("DateLastMaintained gt datetime'2024-02-29T12:00'"));
        assert!(check("DateLastMaintained lt 2024-03-01T01:00:00+00:30"));
        assert!(check("StartDate eq 2020-01-15"));
        assert!(check("StartDate ge datetimeoffset'2020-01-15T00:00:00Z'"));
        assert_eq!(parse_datetime("1970-01-02T00:00:00Z"), Some(86_400));
        assert_eq!(
            parse_datetime("2000-03-01"),
            Some(days_from_civil(2000, 3, 1) * 86_400)
        );
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(parse_datetime("2024-13-01"), None);
        bad("StartDate eq datetime'yesterday'");
    }

    #[test]
    fn enum_literals() {
        assert!(check("GroupCode eq Sage.Enums.Group'RTL'"));
        bad("GroupCode eq foo'RTL'");
    }

    #[test]
    fn malformed_filters_are_errors() {
        for f in [
            "",
            "GroupCode eq",
            "GroupCode eq 'RTL",
            "GroupCode = 'RTL'",
            "GroupCode EQ 'RTL'",
            "GroupCode eq 'RTL' and",
            "(GroupCode eq 'RTL'",
            "GroupCode eq 'RTL')",
            "GroupCode eq 'A' eq 'B'",
            "frobnicate(GroupCode)",
            "startswith(GroupCode)",
            "startswith(GroupCode,'A','B')",
            "GroupCode eq 12ab",
            "GroupCode eq 1.",
            "GroupCode eq \"RTL\"",
            "GroupCode add 1",
            "Address/City eq 'X'",
            "a.b eq 1",
            "eq eq eq",
            "GroupCode eq 'A' GroupCode",
        ] {
            bad(f);
        }
    }

    #[test]
    fn type_errors_are_errors() {
        for f in [
            "GroupCode eq 3",
            "Count eq 'RTL'",
            "GroupCode",
            "not GroupCode",
            "startswith(Count,'1')",
            "Details eq null",
            "GroupCode eq 2024-01-01",
        ] {
            let e = parse(f).unwrap();
            assert!(matches(&e, &rec()).is_err(), "{f} should be a type error");
        }
    }

    #[test]
    fn lists_properties() {
        let e = parse("A eq 1 and (startswith(B,'x') or not C eq D)").unwrap();
        assert_eq!(e.properties(), vec!["A", "B", "C", "D"]);
    }
}
