//! The condition grammar, as libsinsp's `filter/parser.cpp` defines it: `or` binds looser than
//! `and`, `not` is prefix, a check is `field op value`, `field exists`, or a bare identifier (a
//! macro). Field names need a dot; identifiers must not have one, which is how
//! `ka.verb = get` and `kcreate` are told apart without a symbol table.

/// Comparison operators, named as in rule files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    IContains,
    BContains,
    StartsWith,
    BStartsWith,
    EndsWith,
    Glob,
    IGlob,
    Regex,
    In,
    Intersects,
    PMatch,
    Exists,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "contains",
            Op::IContains => "icontains",
            Op::BContains => "bcontains",
            Op::StartsWith => "startswith",
            Op::BStartsWith => "bstartswith",
            Op::EndsWith => "endswith",
            Op::Glob => "glob",
            Op::IGlob => "iglob",
            Op::Regex => "regex",
            Op::In => "in",
            Op::Intersects => "intersects",
            Op::PMatch => "pmatch",
            Op::Exists => "exists",
        }
    }

    /// Parses an operator as written in an exception's `comps`.
    pub fn from_name(name: &str) -> Option<Op> {
        Some(match name {
            "=" | "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "contains" => Op::Contains,
            "icontains" => Op::IContains,
            "bcontains" => Op::BContains,
            "startswith" => Op::StartsWith,
            "bstartswith" => Op::BStartsWith,
            "endswith" => Op::EndsWith,
            "glob" => Op::Glob,
            "iglob" => Op::IGlob,
            "regex" => Op::Regex,
            "in" => Op::In,
            "intersects" => Op::Intersects,
            "pmatch" => Op::PMatch,
            "exists" => Op::Exists,
            _ => return None,
        })
    }

    /// Operators whose right-hand side is a list of values.
    pub fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::Intersects | Op::PMatch)
    }
}

/// A field reference: `ka.verb`, `jevt.value[/requestObject/kind]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldName {
    pub name: String,
    pub arg: Option<String>,
}

impl std::fmt::Display for FieldName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.arg {
            Some(arg) => write!(f, "{}[{}]", self.name, arg),
            None => f.write_str(&self.name),
        }
    }
}

/// One element of a value list: a literal, or a bare word that may name a list (resolved at
/// compile time, as Falco does, because the same word is a literal when no such list exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListItem {
    pub text: String,
    pub quoted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rhs {
    None,
    Value(String),
    List(Vec<ListItem>),
    /// `val(field)` / a transformer: parsed so the error can name it, then rejected.
    Field(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// A macro reference.
    Ident(String),
    Check {
        field: FieldName,
        op: Op,
        rhs: Rhs,
    },
}

/// A syntax error and the byte offset in the condition where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub offset: usize,
    pub message: String,
}

/// libsinsp's limit on parser recursion, kept so a hostile condition cannot overflow the stack.
const MAX_DEPTH: u32 = 100;

pub(crate) fn parse(input: &str) -> Result<Expr, ParseError> {
    let mut p = Parser {
        s: input.as_bytes(),
        text: input,
        pos: 0,
        depth: 0,
        last: String::new(),
    };
    if input.trim().is_empty() {
        return Err(p.err("condition is empty"));
    }
    let expr = p.parse_or()?;
    p.blank();
    if p.pos != p.s.len() {
        return Err(p.err(&format!(
            "unexpected token after '{}', expecting 'or', 'and'",
            p.last
        )));
    }
    Ok(expr)
}

/// The value a list item denotes once spliced into a condition, as Falco does it (the list's
/// items are pasted into the condition text, which libsinsp's parser then reads): an item that
/// is itself one quoted string (`'"10.0.0.0/8"'`, `"'/usr/bin'"`) loses its quotes and has its
/// escapes decoded; anything else is the item as written (`None`).
pub(crate) fn unquote_item(item: &str) -> Option<String> {
    let trimmed = item.trim_matches(|c: char| u8::try_from(c).is_ok_and(is_blank));
    if !trimmed.starts_with(['"', '\'']) {
        return None;
    }
    let mut p = Parser {
        s: trimmed.as_bytes(),
        text: trimmed,
        pos: 0,
        depth: 0,
        last: String::new(),
    };
    match p.quoted() {
        Ok(Some(value)) if p.pos == p.s.len() => Some(value),
        _ => None,
    }
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: u32,
    /// The last token read, for libsinsp-style "unexpected token after" messages.
    last: String,
}

const STR_OPS: &[(&str, Op)] = &[
    ("==", Op::Eq),
    ("=", Op::Eq),
    ("!=", Op::Ne),
    ("glob", Op::Glob),
    ("iglob", Op::IGlob),
    ("contains", Op::Contains),
    ("icontains", Op::IContains),
    ("bcontains", Op::BContains),
    ("startswith", Op::StartsWith),
    ("bstartswith", Op::BStartsWith),
    ("endswith", Op::EndsWith),
    ("regex", Op::Regex),
];
const NUM_OPS: &[(&str, Op)] = &[("<=", Op::Le), ("<", Op::Lt), (">=", Op::Ge), (">", Op::Gt)];
const LIST_OPS: &[(&str, Op)] = &[
    ("intersects", Op::Intersects),
    ("in", Op::In),
    ("pmatch", Op::PMatch),
];
const TRANSFORMERS: &[&str] = &["val(", "tolower(", "toupper(", "b64(", "basename(", "len("];

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x08)
}

impl<'a> Parser<'a> {
    fn err(&self, message: &str) -> ParseError {
        ParseError {
            offset: self.pos,
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn rest(&self) -> &'a [u8] {
        self.s.get(self.pos..).unwrap_or(&[])
    }

    fn blank(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_blank) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn lit(&mut self, word: &str) -> bool {
        if self.rest().starts_with(word.as_bytes()) {
            self.pos += word.len();
            self.last = word.to_string();
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(self.err(&format!("exceeded max depth limit of {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn parse_or(&mut self) -> Result<Expr, ParseError> {
        self.parse_chain("or", Self::parse_and, Expr::Or)
    }

    fn parse_and(&mut self) -> Result<Expr, ParseError> {
        self.parse_chain("and", Self::parse_not, Expr::And)
    }

    /// `operand (keyword operand)*`, where the keyword needs a blank or `(` after it (an
    /// embedded `(` starts the rest of the chain's operand); one operand stands alone.
    fn parse_chain(
        &mut self,
        keyword: &str,
        operand: fn(&mut Self) -> Result<Expr, ParseError>,
        combine: fn(Vec<Expr>) -> Expr,
    ) -> Result<Expr, ParseError> {
        self.enter()?;
        self.blank();
        let mut children = vec![operand(self)?];
        self.blank();
        while self.lit(keyword) {
            let child = if self.blank() {
                operand(self)?
            } else if self.lit("(") {
                self.embedded_remainder()?
            } else {
                return Err(self.err(&format!("expected blank or '(' after '{keyword}'")));
            };
            children.push(child);
            self.blank();
        }
        self.depth -= 1;
        Ok(if children.len() == 1 {
            children.remove(0)
        } else {
            combine(children)
        })
    }

    fn parse_not(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        self.blank();
        let mut negate = false;
        // `not` needs a blank or `(` after it, so `nothing` stays an identifier.
        loop {
            let r = self.rest();
            if r.starts_with(b"not") && r.get(3).copied().is_some_and(is_blank) {
                self.pos += 3;
                self.blank();
                self.last = "not".to_string();
                negate = !negate;
            } else {
                break;
            }
        }
        let child = if self.lit("not(") {
            negate = !negate;
            self.embedded_remainder()?
        } else {
            self.parse_check()?
        };
        self.depth -= 1;
        Ok(if negate {
            Expr::Not(Box::new(child))
        } else {
            child
        })
    }

    fn embedded_remainder(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        self.blank();
        let child = self.parse_or()?;
        self.blank();
        if !self.lit(")") {
            return Err(self.err("expected a ')' token"));
        }
        self.depth -= 1;
        Ok(child)
    }

    fn parse_check(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        self.blank();
        if self.lit("(") {
            let e = self.embedded_remainder()?;
            self.depth -= 1;
            return Ok(e);
        }
        if let Some(name) = self.field_name() {
            let field = self.field_remainder(name)?;
            let e = self.parse_condition(field)?;
            self.depth -= 1;
            return Ok(e);
        }
        if let Some(t) = TRANSFORMERS
            .iter()
            .find(|t| self.rest().starts_with(t.as_bytes()))
        {
            return Err(self.err(&format!(
                "field transformer '{}' is not supported on the left-hand side",
                t.trim_end_matches('(')
            )));
        }
        if let Some(ident) = self.identifier() {
            self.depth -= 1;
            return Ok(Expr::Ident(ident));
        }
        Err(self.err("expected a '(' token, a field check, or an identifier"))
    }

    /// `[a-zA-Z]+[a-zA-Z0-9_]*`
    fn word_len(bytes: &[u8]) -> usize {
        if !bytes.first().is_some_and(u8::is_ascii_alphabetic) {
            return 0;
        }
        bytes
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
            .unwrap_or(bytes.len())
    }

    fn identifier(&mut self) -> Option<String> {
        let n = Self::word_len(self.rest());
        if n == 0 {
            return None;
        }
        let word = self.text.get(self.pos..self.pos + n)?.to_string();
        self.pos += n;
        self.last.clone_from(&word);
        Some(word)
    }

    /// A word followed by one or more `.word` parts.
    fn field_name(&mut self) -> Option<String> {
        let r = self.rest();
        let mut n = Self::word_len(r);
        if n == 0 {
            return None;
        }
        let mut parts = 1;
        while r.get(n) == Some(&b'.') {
            let more = Self::word_len(r.get(n + 1..).unwrap_or(&[]));
            if more == 0 {
                break;
            }
            n += 1 + more;
            parts += 1;
        }
        if parts < 2 {
            return None;
        }
        let name = self.text.get(self.pos..self.pos + n)?.to_string();
        self.pos += n;
        self.last.clone_from(&name);
        Some(name)
    }

    fn field_remainder(&mut self, name: String) -> Result<FieldName, ParseError> {
        let mut arg = None;
        if self.lit("[") {
            let value = match self.quoted()? {
                Some(v) => v,
                None => {
                    // `[^][\"'[:space:]]+`
                    let start = self.pos;
                    while self.peek().is_some_and(|c| {
                        !matches!(c, b'[' | b']' | b'"' | b'\'') && !c.is_ascii_whitespace()
                    }) {
                        self.pos += 1;
                    }
                    if self.pos == start {
                        return Err(self.err(
                            "expected a valid field argument: a quoted string or a bare string",
                        ));
                    }
                    self.text
                        .get(start..self.pos)
                        .unwrap_or_default()
                        .to_string()
                }
            };
            if !self.lit("]") {
                return Err(self.err("expected a ']' token"));
            }
            arg = Some(value);
        }
        Ok(FieldName { name, arg })
    }

    fn op_from(&mut self, table: &[(&str, Op)], word_op: bool) -> Option<Op> {
        for (text, op) in table {
            let r = self.rest();
            if !r.starts_with(text.as_bytes()) {
                continue;
            }
            let alphabetic = text.as_bytes().first().is_some_and(u8::is_ascii_alphabetic);
            // Word operators need a blank after them (libsinsp lexes "contains "), except list
            // operators, which may be followed directly by `(`.
            if alphabetic {
                let next = r.get(text.len()).copied();
                let ok = match next {
                    Some(c) if is_blank(c) => true,
                    Some(b'(') => !word_op,
                    _ => false,
                };
                if !ok {
                    continue;
                }
            }
            self.pos += text.len();
            self.last = text.to_string();
            return Some(*op);
        }
        None
    }

    fn parse_condition(&mut self, field: FieldName) -> Result<Expr, ParseError> {
        self.blank();
        let r = self.rest();
        if r.starts_with(b"exists")
            && !r
                .get(6)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.pos += 6;
            self.last = "exists".to_string();
            return Ok(Expr::Check {
                field,
                op: Op::Exists,
                rhs: Rhs::None,
            });
        }
        if let Some(op) = self.op_from(NUM_OPS, true) {
            let rhs = self.num_value()?;
            return Ok(Expr::Check { field, op, rhs });
        }
        if let Some(op) = self.op_from(STR_OPS, true) {
            let rhs = self.str_value()?;
            return Ok(Expr::Check { field, op, rhs });
        }
        if let Some(op) = self.op_from(LIST_OPS, false) {
            let rhs = self.list_value()?;
            return Ok(Expr::Check { field, op, rhs });
        }
        Err(self.err(
            "expected a valid check operator: one of 'exists', '<=', '<', '>=', '>', '==', '=', '!=', 'glob', 'iglob', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'regex', 'intersects', 'in', 'pmatch'",
        ))
    }

    fn transformer(&mut self) -> Result<Option<Rhs>, ParseError> {
        let Some(t) = TRANSFORMERS
            .iter()
            .find(|t| self.rest().starts_with(t.as_bytes()))
        else {
            return Ok(None);
        };
        let start = self.pos;
        self.pos += t.len();
        let mut depth = 1usize;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        let text = self
                            .text
                            .get(start..self.pos)
                            .unwrap_or_default()
                            .to_string();
                        return Ok(Some(Rhs::Field(text)));
                    }
                }
                _ => {}
            }
        }
        Err(self.err("expected a ')' token closing the transformer"))
    }

    fn num_value(&mut self) -> Result<Rhs, ParseError> {
        self.blank();
        if let Some(t) = self.transformer()? {
            return Ok(t);
        }
        let r = self.rest();
        let mut n = 0;
        if r.len() > 2 && r[0] == b'0' && matches!(r[1], b'x' | b'X') {
            n = 2 + r[2..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            if n == 2 {
                n = 0;
            }
        }
        if n == 0 {
            let mut i = 0;
            if matches!(r.first(), Some(b'+' | b'-')) {
                i = 1;
            }
            let digits = r
                .get(i..)
                .unwrap_or(&[])
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits > 0 {
                i += digits;
                if r.get(i) == Some(&b'.') {
                    i += 1;
                    i += r
                        .get(i..)
                        .unwrap_or(&[])
                        .iter()
                        .take_while(|c| c.is_ascii_digit())
                        .count();
                }
                if matches!(r.get(i), Some(b'e' | b'E'))
                    && matches!(r.get(i + 1), Some(b'+' | b'-'))
                    && r.get(i + 2).is_some_and(u8::is_ascii_digit)
                {
                    i += 2;
                    i += r
                        .get(i..)
                        .unwrap_or(&[])
                        .iter()
                        .take_while(|c| c.is_ascii_digit())
                        .count();
                }
                n = i;
            }
        }
        if n == 0 {
            return Err(self.err("expected a number value"));
        }
        let v = self
            .text
            .get(self.pos..self.pos + n)
            .unwrap_or_default()
            .to_string();
        self.pos += n;
        self.last.clone_from(&v);
        Ok(Rhs::Value(v))
    }

    /// A quoted string ('…' or "…"), unescaped; `None` when the cursor is not on a quote.
    fn quoted(&mut self) -> Result<Option<String>, ParseError> {
        let Some(delim @ (b'"' | b'\'')) = self.peek() else {
            return Ok(None);
        };
        let start = self.pos;
        let mut out = String::new();
        let mut chars = self
            .text
            .get(start + 1..)
            .unwrap_or_default()
            .char_indices();
        while let Some((i, c)) = chars.next() {
            if c as u32 == u32::from(delim) {
                self.pos = start + 1 + i + 1;
                self.last.clone_from(&out);
                return Ok(Some(out));
            }
            if c == '\\' {
                match chars.next() {
                    Some((_, e)) => out.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        other => other,
                    }),
                    None => break,
                }
            } else {
                out.push(c);
            }
        }
        Err(self.err("unterminated quoted string"))
    }

    /// `[^()"'[:space:]=,]+`
    fn bare(&mut self) -> Option<String> {
        let start = self.pos;
        while self.peek().is_some_and(|c| {
            !matches!(c, b'(' | b')' | b'"' | b'\'' | b'=' | b',') && !c.is_ascii_whitespace()
        }) {
            self.pos += 1;
        }
        if self.pos == start {
            return None;
        }
        let v = self
            .text
            .get(start..self.pos)
            .unwrap_or_default()
            .to_string();
        self.last.clone_from(&v);
        Some(v)
    }

    fn str_value(&mut self) -> Result<Rhs, ParseError> {
        self.blank();
        if let Some(t) = self.transformer()? {
            return Ok(t);
        }
        if let Some(q) = self.quoted()? {
            return Ok(Rhs::Value(q));
        }
        match self.bare() {
            Some(b) => Ok(Rhs::Value(b)),
            None => Err(self.err("expected a string value")),
        }
    }

    fn list_item(&mut self) -> Result<Option<ListItem>, ParseError> {
        self.blank();
        if let Some(q) = self.quoted()? {
            return Ok(Some(ListItem {
                text: q,
                quoted: true,
            }));
        }
        Ok(self.bare().map(|text| ListItem {
            text,
            quoted: false,
        }))
    }

    fn list_value(&mut self) -> Result<Rhs, ParseError> {
        self.blank();
        if self.lit("(") {
            let mut items = Vec::new();
            if let Some(first) = self.list_item()? {
                items.push(first);
                self.blank();
                while self.lit(",") {
                    match self.list_item()? {
                        Some(item) => items.push(item),
                        None => return Err(self.err("expected a string value")),
                    }
                    self.blank();
                }
            }
            self.blank();
            if !self.lit(")") {
                return Err(self.err("expected a ')' token"));
            }
            return Ok(Rhs::List(items));
        }
        if let Some(t) = self.transformer()? {
            return Ok(t);
        }
        if let Some(ident) = self.identifier() {
            return Ok(Rhs::List(vec![ListItem {
                text: ident,
                quoted: false,
            }]));
        }
        Err(self.err("expected a list, an identifier, or a field with a valid transformer"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, op: Op, rhs: Rhs) -> Expr {
        Expr::Check {
            field: FieldName {
                name: name.into(),
                arg: None,
            },
            op,
            rhs,
        }
    }

    #[test]
    fn precedence_and_not() {
        let e = parse("a.b = 1 or not c.d exists and m").unwrap();
        assert_eq!(
            e,
            Expr::Or(vec![
                check("a.b", Op::Eq, Rhs::Value("1".into())),
                Expr::And(vec![
                    Expr::Not(Box::new(check("c.d", Op::Exists, Rhs::None))),
                    Expr::Ident("m".into())
                ])
            ])
        );
    }

    #[test]
    fn lists_args_and_quotes() {
        let e = parse(r#"x.y[/a/b] in (p, "q r", 'it\'s')"#).unwrap();
        let Expr::Check {
            field,
            op: Op::In,
            rhs: Rhs::List(items),
        } = e
        else {
            panic!("{e:?}")
        };
        assert_eq!(field.arg.as_deref(), Some("/a/b"));
        let texts: Vec<_> = items.iter().map(|i| i.text.as_str()).collect();
        assert_eq!(texts, ["p", "q r", "it's"]);
        assert!(parse("x.y in ()").is_ok());
        assert!(parse("x.y in(a)and(b)").is_ok());
    }

    #[test]
    fn errors_have_offsets() {
        let e = parse("ka.verb = get and").unwrap_err();
        assert!(e.message.contains("expected"), "{e:?}");
        let e = parse("ka.verb get").unwrap_err();
        assert_eq!(e.offset, 8);
        assert!(parse("(ka.verb = get").is_err());
        assert!(parse("ka.verb contains'x'").is_err());
        let deep = "(".repeat(500) + "a" + &")".repeat(500);
        assert!(parse(&deep).unwrap_err().message.contains("depth"));
    }
}
