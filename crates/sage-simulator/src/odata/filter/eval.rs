//! Evaluating an [`Expr`] against one record.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::lex::parse_datetime;
use super::{CmpOp, Expr, FilterError, Func, Literal, err};

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
