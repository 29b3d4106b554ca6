//! Your own operation: a small expression language over a, b (the operands, integers in 0..p)
//! and p, whose value mod p labels the pair (a, b).
//!
//! ```text
//! (a*b + 3) mod p        a^2 + a*b + b^2        a / b        a - b if a < b else a + b
//! ```
//!
//! Semantics:
//! - **Exact integers.** Every value is an exact integer; an intermediate outside ±2¹²⁷ is an
//!   error naming the pair, never a wrapped number. The result is reduced mod p at the end
//!   (Euclidean: −1 → p−1).
//! - `+ - *` as usual; `^` is integer power (right-associative, binds tighter than unary minus:
//!   `-a^2` = −(a²)); a negative exponent is an error.
//! - `x / y` is x times the modular inverse of y: (x · y^(p−2)) mod p (Fermat; p is prime).
//!   A pair whose divisor is 0 mod p is **excluded** from the dataset, as b = 0 is for `a / b`.
//! - `x mod y` (or `x % y`) is the Euclidean remainder, in 0..|y|; a pair with y = 0 is excluded.
//! - Comparisons `< <= > >= == !=` compare the integers and give 1 or 0.
//!   `x if c else y` (Python's) is x where c ≠ 0, else y; only the branch taken is evaluated,
//!   so a division by zero in the other one excludes nothing.
//! - Precedence, loosest first: `if-else`; comparisons (not chained); `+ -`; `* / mod %`;
//!   unary `-`; `^`.
//!
//! Why a hand-written parser rather than a parser library: the grammar is six precedence levels;
//! a precedence-climbing parser is ~150 lines with exact positions and "expected …" messages,
//! and adds nothing to the browser's wasm, where a combinator library (nom, chumsky) would. It
//! is tested in `tests/native/data.rs` and fuzzed in `tests/native/fuzz.rs`.

use std::fmt;

/// Longest expression accepted, in bytes.
pub const MAX_EXPR_LEN: usize = 1000;
/// Deepest nesting accepted (parentheses, operators, if-else): keeps hostile input from
/// overflowing the parser's or the evaluator's stack.
pub const MAX_DEPTH: usize = 64;
/// Largest integer constant accepted (10¹⁸): anything bigger is a typo, and keeps `2^…` chains
/// of constants from being the only overflow source.
pub const MAX_CONSTANT: i128 = 1_000_000_000_000_000_000;

/// A parse error: where (1-based character column) and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// An evaluation error for one pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    pub a: u32,
    pub b: u32,
    pub message: String,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at a={}, b={}: {}", self.a, self.b, self.message)
    }
}

impl std::error::Error for EvalError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "mod",
            BinOp::Pow => "^",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
        }
    }
}

/// A parsed expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    A,
    B,
    P,
    Const(i128),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `then if cond else otherwise`
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Num(i128),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Num(n) => format!("the number {n}"),
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Op(s) => format!("`{s}`"),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::End => "the end".into(),
        }
    }
}

/// Tokens with their 1-based columns.
fn lex(text: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            let n =
                digits.parse::<i128>().ok().filter(|n| *n <= MAX_CONSTANT).ok_or_else(|| {
                    ParseError {
                        column,
                        message: format!(
                            "the constant {} is too large (at most 10^18)",
                            shorten(&digits)
                        ),
                    }
                })?;
            out.push((Tok::Num(n), column));
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Tok::Ident(chars[start..i].iter().collect()), column));
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let op: Option<&'static str> = match two.as_str() {
            "<=" => Some("<="),
            ">=" => Some(">="),
            "==" => Some("=="),
            "!=" => Some("!="),
            "**" => Some("^"),
            _ => None,
        };
        if let Some(op) = op {
            out.push((Tok::Op(op), column));
            i += 2;
            continue;
        }
        let tok = match c {
            '+' => Tok::Op("+"),
            '-' | '−' => Tok::Op("-"),
            '*' | '×' | '·' => Tok::Op("*"),
            '/' | '÷' => Tok::Op("/"),
            '%' => Tok::Op("mod"),
            '^' => Tok::Op("^"),
            '<' => Tok::Op("<"),
            '>' => Tok::Op(">"),
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '=' => {
                return Err(ParseError {
                    column,
                    message: "`=` is not an operator; write `==` to compare".into(),
                });
            }
            _ => {
                return Err(ParseError {
                    column,
                    message: format!(
                        "unexpected `{c}`; expected a, b, p, a number, an operator (+ - * / ^ mod) or a parenthesis"
                    ),
                });
            }
        };
        out.push((tok, column));
        i += 1;
    }
    out.push((Tok::End, chars.len() + 1));
    Ok(out)
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 24 {
        format!("{}…", s.chars().take(20).collect::<String>())
    } else {
        s.to_string()
    }
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn column(&self) -> usize {
        self.toks[self.pos].1
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].0.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn error<T>(&self, expected: &str) -> Result<T, ParseError> {
        Err(ParseError {
            column: self.column(),
            message: format!("expected {expected}, found {}", self.peek().describe()),
        })
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError {
                column: self.column(),
                message: format!("the expression nests deeper than {MAX_DEPTH} levels"),
            });
        }
        Ok(())
    }

    fn is_keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == word)
    }

    /// expr := compare ("if" compare "else" expr)?
    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let then = self.compare()?;
        let e = if self.is_keyword("if") {
            self.next();
            let cond = self.compare()?;
            if !self.is_keyword("else") {
                return self.error("`else` (after `x if condition`)");
            }
            self.next();
            let otherwise = self.expr()?;
            Expr::If { cond: Box::new(cond), then: Box::new(then), otherwise: Box::new(otherwise) }
        } else {
            then
        };
        self.depth -= 1;
        Ok(e)
    }

    /// compare := sum (cmp sum)?   (no chains: `a < b < p` is refused, not misread)
    fn compare(&mut self) -> Result<Expr, ParseError> {
        let left = self.sum()?;
        let op = match self.peek() {
            Tok::Op("<") => BinOp::Lt,
            Tok::Op("<=") => BinOp::Le,
            Tok::Op(">") => BinOp::Gt,
            Tok::Op(">=") => BinOp::Ge,
            Tok::Op("==") => BinOp::Eq,
            Tok::Op("!=") => BinOp::Ne,
            _ => return Ok(left),
        };
        self.next();
        let right = self.sum()?;
        if let Tok::Op(s @ ("<" | "<=" | ">" | ">=" | "==" | "!=")) = self.peek() {
            let s = *s;
            return Err(ParseError {
                column: self.column(),
                message: format!("comparisons do not chain; put one in parentheses before `{s}`"),
            });
        }
        Ok(Expr::Bin(op, Box::new(left), Box::new(right)))
    }

    /// sum := product (("+" | "-") product)*
    fn sum(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.product()?;
        loop {
            let op = match self.peek() {
                Tok::Op("+") => BinOp::Add,
                Tok::Op("-") => BinOp::Sub,
                _ => return Ok(left),
            };
            self.next();
            let right = self.product()?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
    }

    /// product := unary (("*" | "/" | "mod" | "%") unary)*
    fn product(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Op("*") => BinOp::Mul,
                Tok::Op("/") => BinOp::Div,
                Tok::Op("mod") => BinOp::Mod,
                Tok::Ident(s) if s == "mod" => BinOp::Mod,
                _ => return Ok(left),
            };
            self.next();
            let right = self.unary()?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
    }

    /// unary := "-" unary | power
    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.peek() == &Tok::Op("-") {
            self.enter()?;
            self.next();
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner)));
        }
        self.power()
    }

    /// power := atom ("^" unary)?   (right-associative: a^b^2 = a^(b^2))
    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.atom()?;
        if self.peek() == &Tok::Op("^") {
            self.enter()?;
            self.next();
            let exp = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Bin(BinOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    /// atom := number | a | b | p | "(" expr ")"
    fn atom(&mut self) -> Result<Expr, ParseError> {
        const OPERAND: &str = "an operand (a, b, p, a number or `(`)";
        match self.peek().clone() {
            Tok::Num(n) => {
                self.next();
                Ok(Expr::Const(n))
            }
            Tok::Ident(name) => match name.as_str() {
                "a" => {
                    self.next();
                    Ok(Expr::A)
                }
                "b" => {
                    self.next();
                    Ok(Expr::B)
                }
                "p" => {
                    self.next();
                    Ok(Expr::P)
                }
                "if" | "else" | "mod" => self.error(OPERAND),
                other => Err(ParseError {
                    column: self.column(),
                    message: format!(
                        "unknown name `{}`; the operands are a, b and p",
                        shorten(other)
                    ),
                }),
            },
            Tok::LParen => {
                self.enter()?;
                self.next();
                let inner = self.expr()?;
                if self.peek() != &Tok::RParen {
                    return self.error("`)`");
                }
                self.next();
                self.depth -= 1;
                Ok(inner)
            }
            _ => self.error(OPERAND),
        }
    }
}

impl Expr {
    /// Parses `text`; the error names the column and what was expected there.
    pub fn parse(text: &str) -> Result<Expr, ParseError> {
        if text.len() > MAX_EXPR_LEN {
            return Err(ParseError {
                column: MAX_EXPR_LEN + 1,
                message: format!(
                    "the expression is {} bytes long; at most {MAX_EXPR_LEN}",
                    text.len()
                ),
            });
        }
        let toks = lex(text)?;
        let mut parser = Parser { toks, pos: 0, depth: 0 };
        if parser.peek() == &Tok::End {
            return parser.error(OPERAND_OR_EXPR);
        }
        let e = parser.expr()?;
        if parser.peek() != &Tok::End {
            return parser.error("an operator or the end");
        }
        Ok(e)
    }

    /// The value of (a, b) mod p, in 0..p; `Ok(None)` when the pair is excluded (a divisor ≡ 0
    /// mod p, or `mod 0`). `p` must be prime for `/` to mean the modular inverse.
    pub fn label(&self, a: u32, b: u32, p: u32) -> Result<Option<u32>, EvalError> {
        let err = |message: String| EvalError { a, b, message };
        let v = match self.eval(a as i128, b as i128, p as i128).map_err(err)? {
            Some(v) => v,
            None => return Ok(None),
        };
        Ok(Some(v.rem_euclid(p as i128) as u32))
    }

    /// Exact value; `None` = excluded pair.
    fn eval(&self, a: i128, b: i128, p: i128) -> Result<Option<i128>, String> {
        Ok(Some(match self {
            Expr::A => a,
            Expr::B => b,
            Expr::P => p,
            Expr::Const(n) => *n,
            Expr::Neg(x) => match x.eval(a, b, p)? {
                Some(x) => x.checked_neg().ok_or_else(|| overflow("-"))?,
                None => return Ok(None),
            },
            Expr::If { cond, then, otherwise } => match cond.eval(a, b, p)? {
                Some(0) => return otherwise.eval(a, b, p),
                Some(_) => return then.eval(a, b, p),
                None => return Ok(None),
            },
            Expr::Bin(op, x, y) => {
                let (Some(x), Some(y)) = (x.eval(a, b, p)?, y.eval(a, b, p)?) else {
                    return Ok(None);
                };
                let checked = |v: Option<i128>| v.ok_or_else(|| overflow(op.symbol()));
                match op {
                    BinOp::Add => checked(x.checked_add(y))?,
                    BinOp::Sub => checked(x.checked_sub(y))?,
                    BinOp::Mul => checked(x.checked_mul(y))?,
                    BinOp::Pow => {
                        if y < 0 {
                            return Err(format!("`^` has a negative exponent ({y})"));
                        }
                        match (x, u32::try_from(y)) {
                            (0 | 1, _) => {
                                if y == 0 {
                                    1
                                } else {
                                    x
                                }
                            }
                            (-1, _) => {
                                if y % 2 == 0 {
                                    1
                                } else {
                                    -1
                                }
                            }
                            (_, Ok(e)) => checked(x.checked_pow(e))?,
                            (_, Err(_)) => return Err(overflow("^")),
                        }
                    }
                    BinOp::Div => {
                        let d = y.rem_euclid(p);
                        if d == 0 {
                            return Ok(None);
                        }
                        let inverse = pow_mod(d, p - 2, p);
                        // x mod p first: x · inverse stays below p², far inside i128.
                        x.rem_euclid(p) * inverse % p
                    }
                    BinOp::Mod => {
                        if y == 0 {
                            return Ok(None);
                        }
                        x.rem_euclid(y)
                    }
                    BinOp::Lt => (x < y) as i128,
                    BinOp::Le => (x <= y) as i128,
                    BinOp::Gt => (x > y) as i128,
                    BinOp::Ge => (x >= y) as i128,
                    BinOp::Eq => (x == y) as i128,
                    BinOp::Ne => (x != y) as i128,
                }
            }
        }))
    }
}

const OPERAND_OR_EXPR: &str = "an expression over a, b and p (e.g. `a + b`)";

fn overflow(op: &str) -> String {
    format!(
        "`{op}` overflows 128-bit integers; the arithmetic is exact, so make the numbers smaller"
    )
}

/// `x^e mod p` by square-and-multiply (x, p < 2⁶³, so products fit i128).
fn pow_mod(mut x: i128, mut e: i128, p: i128) -> i128 {
    let mut acc = 1;
    x = x.rem_euclid(p);
    while e > 0 {
        if e & 1 == 1 {
            acc = acc * x % p;
        }
        x = x * x % p;
        e >>= 1;
    }
    acc
}

/// An operation's labels over the whole p × p grid, row a, column b: `None` where the pair is
/// excluded. The first evaluation error (an overflow, a negative exponent) is returned instead.
pub fn label_table(expr: &Expr, p: u32) -> Result<Vec<Option<u32>>, EvalError> {
    let mut out = Vec::with_capacity((p * p) as usize);
    for a in 0..p {
        for b in 0..p {
            out.push(expr.label(a, b, p)?);
        }
    }
    Ok(out)
}
