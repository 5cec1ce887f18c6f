//! Lexing a `$filter` into tokens, and the date-time literals it accepts.

use std::fmt;

use super::{FilterError, err};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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

pub(super) fn lex(input: &str) -> Result<Vec<Tok>, FilterError> {
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
