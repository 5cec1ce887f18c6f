//! Parsing tokens into an [`Expr`] by the grammar in the module docs.

use super::lex::{Tok, lex, parse_datetime};
use super::{CmpOp, Expr, FilterError, Func, Literal, err};

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
