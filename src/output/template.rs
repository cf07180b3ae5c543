//! A small, total subset of Go's `text/template`, for `ls --format` and
//! `version -f` (the reference's templates, docs/compatibility.md §4.6):
//!
//! - text, where `\n` and `\t` are a newline and a tab;
//! - `{{.Field}}` (fields named by the command; spaces inside the braces allowed);
//! - `{{"text"}}`, `{{42}}`, `{{true}}`: literals; quoted strings take Go's escapes;
//! - `{{if X}}…{{else if Y}}…{{else}}…{{end}}`, with Go's truthiness (an empty
//!   string, 0 and false are false);
//! - functions `printf FORMAT ARG...` (verbs `%s %d %v %q %%` with the flags `-`, `+`,
//!   `0`, a width and a precision), `not X`, `eq X Y...`, `ne X Y`; `(…)` groups a call;
//! - `{{/* comment */}}`, and `{{-` / `-}}` that trim the spaces around an action.
//!
//! Anything else (`range`, `with`, pipelines, variables, other functions, other verbs)
//! is refused when parsing, with one line that names it. Every field value is text,
//! as in the reference.
//!
//! ```ignore
//! let t = Template::parse("{{.Name}}\t{{.Size}}", &["Name", "Size"])?; // Err(msg) → usage error
//! let line = t.render(|field| lookup(field));
//! ```

/// What the language knows, for the error messages.
const KNOWN: &str = "known: {{.Field}}, \"text\", {{if X}}…{{else if X}}…{{else}}…{{end}}, printf, not, eq, ne, {{/* comment */}}";
/// Deepest nesting of `if` blocks and parentheses.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
}

impl Value {
    fn truthy(&self) -> bool {
        match self {
            Value::Str(s) => !s.is_empty(),
            Value::Int(n) => *n != 0,
            Value::Bool(b) => *b,
        }
    }
    fn text(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Int(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
        }
    }
    fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Int(_) => "int",
            Value::Bool(_) => "bool",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    Printf,
    Not,
    Eq,
    Ne,
}

#[derive(Debug, Clone)]
enum Expr {
    Field(&'static str),
    Lit(Value),
    /// `printf` keeps its parsed format as the first argument's companion.
    Printf(Vec<Piece>, Vec<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Out(Expr),
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
}

#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<Node>,
}

impl Template {
    /// Parse `src`; every field must be one of `fields`. The error message is one line
    /// suitable for `Error::usage`.
    pub fn parse(src: &str, fields: &[&'static str]) -> Result<Template, String> {
        Parser { src, fields }
            .parse()
            // The message quotes the template: one line, no control character.
            .map_err(|e| format!("template error: {}", super::escape_control(&e)))
    }

    /// Render with a field lookup (the value of a field named at parse time).
    pub fn render(&self, mut value: impl FnMut(&str) -> String) -> String {
        let mut out = String::new();
        render_nodes(&self.nodes, &mut value, &mut out);
        out
    }
}

fn render_nodes(nodes: &[Node], value: &mut dyn FnMut(&str) -> String, out: &mut String) {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Out(e) => out.push_str(&eval(e, value).text()),
            Node::If {
                branches,
                otherwise,
            } => {
                let body = branches
                    .iter()
                    .find(|(c, _)| eval(c, value).truthy())
                    .map_or(otherwise, |(_, b)| b);
                render_nodes(body, value, out);
            }
        }
    }
}

fn eval(e: &Expr, value: &mut dyn FnMut(&str) -> String) -> Value {
    match e {
        Expr::Field(f) => Value::Str(value(f)),
        Expr::Lit(v) => v.clone(),
        Expr::Printf(pieces, args) => {
            let vals: Vec<Value> = args.iter().map(|a| eval(a, value)).collect();
            Value::Str(printf(pieces, &vals))
        }
        Expr::Call(f, args) => {
            let vals: Vec<Value> = args.iter().map(|a| eval(a, value)).collect();
            let same = |a: &Value, b: &Value| a.text() == b.text();
            Value::Bool(match f {
                Func::Not => !vals[0].truthy(),
                Func::Eq => vals[1..].iter().any(|v| same(&vals[0], v)),
                Func::Ne => !same(&vals[0], &vals[1]),
                Func::Printf => false,
            })
        }
    }
}

// ------------------------------------------------------------ parser

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Field(String),
    Ident(String),
    Lit(Value),
    Open,
    Close,
}

/// An `if` being parsed: its branches so far, and whether `else` was seen.
struct OpenIf {
    outer: Vec<Node>,
    branches: Vec<(Expr, Vec<Node>)>,
    in_else: bool,
}

struct Parser<'a> {
    src: &'a str,
    fields: &'a [&'static str],
}

impl Parser<'_> {
    fn parse(&self) -> Result<Template, String> {
        let mut rest = self.src;
        let mut cur: Vec<Node> = Vec::new();
        let mut open: Vec<OpenIf> = Vec::new();
        let mut text = String::new();
        let mut trim_next = false;
        while !rest.is_empty() {
            let Some(at) = rest.find("{{") else {
                push_text(&mut text, rest, trim_next);
                break;
            };
            push_text(&mut text, &rest[..at], trim_next);
            let (body, trim_before, trim_after, after) = split_action(&rest[at + 2..])?;
            if trim_before {
                let kept = text.trim_end().len();
                text.truncate(kept);
            }
            if !text.is_empty() {
                cur.push(Node::Text(std::mem::take(&mut text)));
            }
            trim_next = trim_after;
            rest = after;
            self.action(body, &mut cur, &mut open)?;
        }
        if !text.is_empty() {
            cur.push(Node::Text(text));
        }
        if !open.is_empty() {
            return Err("{{if}} without {{end}}".into());
        }
        Ok(Template { nodes: cur })
    }

    /// One action (the text between the braces, trim markers removed).
    fn action(
        &self,
        body: &str,
        cur: &mut Vec<Node>,
        open: &mut Vec<OpenIf>,
    ) -> Result<(), String> {
        let b = body.trim();
        if b.starts_with("/*") {
            return if b.ends_with("*/") && b.len() >= 4 {
                Ok(())
            } else {
                Err(format!("unclosed comment in '{{{{{b}}}}}'"))
            };
        }
        let toks = lex(b)?;
        let word = match toks.first() {
            Some(Tok::Ident(w)) => w.as_str(),
            None => return Err("empty action '{{}}'".into()),
            _ => "",
        };
        match word {
            "if" => {
                if open.len() >= MAX_DEPTH {
                    return Err("too many nested {{if}}".into());
                }
                let cond = self.expr_all(&toks[1..], "if")?;
                open.push(OpenIf {
                    outer: std::mem::take(cur),
                    branches: vec![(cond, Vec::new())],
                    in_else: false,
                });
            }
            "else" => {
                let o = open.last_mut().ok_or("{{else}} without {{if}}")?;
                if o.in_else {
                    return Err("{{else}} after {{else}}".into());
                }
                let body = std::mem::take(cur);
                o.branches.last_mut().expect("an if has a branch").1 = body;
                match toks.get(1) {
                    None => o.in_else = true,
                    Some(Tok::Ident(w)) if w == "if" => {
                        let cond = self.expr_all(&toks[2..], "else if")?;
                        o.branches.push((cond, Vec::new()));
                    }
                    Some(_) => return Err("{{else}} takes nothing (or 'if X')".into()),
                }
            }
            "end" => {
                if toks.len() > 1 {
                    return Err("{{end}} takes nothing".into());
                }
                let mut o = open.pop().ok_or("{{end}} without {{if}}")?;
                let body = std::mem::take(cur);
                let otherwise = if o.in_else {
                    body
                } else {
                    o.branches.last_mut().expect("an if has a branch").1 = body;
                    Vec::new()
                };
                *cur = o.outer;
                cur.push(Node::If {
                    branches: o.branches,
                    otherwise,
                });
            }
            _ => cur.push(Node::Out(self.expr_all(&toks, "")?)),
        }
        Ok(())
    }

    /// The whole token list as one expression.
    fn expr_all(&self, toks: &[Tok], after: &str) -> Result<Expr, String> {
        if toks.is_empty() {
            return Err(format!("missing value after '{after}'"));
        }
        let (e, used) = self.call(toks, 0)?;
        match toks.get(used) {
            None => Ok(e),
            Some(Tok::Close) => Err("unexpected ')'".into()),
            Some(t) => Err(format!("unexpected {} after a value", show(t))),
        }
    }

    /// A function call with its arguments up to ')' or the end, or a single term.
    fn call(&self, toks: &[Tok], depth: usize) -> Result<(Expr, usize), String> {
        if let Some(Tok::Ident(name)) = toks.first() {
            if let Some(f) = func(name)? {
                let mut args = Vec::new();
                let mut i = 1;
                while i < toks.len() && toks[i] != Tok::Close {
                    let (a, n) = self.term(&toks[i..], depth)?;
                    args.push(a);
                    i += n;
                }
                return Ok((self.apply(f, args)?, i));
            }
        }
        self.term(toks, depth)
    }

    fn term(&self, toks: &[Tok], depth: usize) -> Result<(Expr, usize), String> {
        let Some(first) = toks.first() else {
            return Err("missing value".into());
        };
        match first {
            Tok::Field(name) => Ok((Expr::Field(self.field(name)?), 1)),
            Tok::Lit(v) => Ok((Expr::Lit(v.clone()), 1)),
            Tok::Open => {
                if depth >= MAX_DEPTH {
                    return Err("too many nested parentheses".into());
                }
                let (e, n) = self.call(&toks[1..], depth + 1)?;
                match toks.get(1 + n) {
                    Some(Tok::Close) => Ok((e, n + 2)),
                    _ => Err("unclosed '('".into()),
                }
            }
            Tok::Close => Err("unexpected ')'".into()),
            Tok::Ident(name) => {
                func(name)?;
                Err(format!("'{name}' needs parentheses when it is an argument"))
            }
        }
    }

    fn apply(&self, f: Func, mut args: Vec<Expr>) -> Result<Expr, String> {
        let (min, max) = match f {
            Func::Printf => (1, usize::MAX),
            Func::Not => (1, 1),
            Func::Eq => (2, usize::MAX),
            Func::Ne => (2, 2),
        };
        let name = format!("{f:?}").to_lowercase();
        if args.len() < min || args.len() > max {
            return Err(format!("wrong number of arguments for '{name}'"));
        }
        if f != Func::Printf {
            return Ok(Expr::Call(f, args));
        }
        let Expr::Lit(Value::Str(fmt)) = args.remove(0) else {
            return Err("printf needs a quoted format first, e.g. printf \"%-20s\" .Name".into());
        };
        let pieces = parse_format(&fmt)?;
        let verbs = pieces
            .iter()
            .filter(|p| matches!(p, Piece::Verb(_)))
            .count();
        if verbs != args.len() {
            return Err(format!(
                "printf format \"{fmt}\" has {verbs} verb(s) for {} value(s)",
                args.len()
            ));
        }
        Ok(Expr::Printf(pieces, args))
    }

    fn field(&self, name: &str) -> Result<&'static str, String> {
        self.fields
            .iter()
            .find(|f| **f == name)
            .copied()
            .ok_or_else(|| {
                let list: Vec<String> = self.fields.iter().map(|f| format!(".{f}")).collect();
                format!("unknown field '.{name}' (available: {})", list.join(", "))
            })
    }
}

/// Text outside actions, with `\n` and `\t` turned into a newline and a tab.
fn push_text(out: &mut String, s: &str, trim_start: bool) {
    let s = if trim_start { s.trim_start() } else { s };
    out.push_str(&s.replace("\\n", "\n").replace("\\t", "\t"));
}

/// After `{{`: the action body, the trim markers, and the text after `}}`.
/// `}}` inside a quoted string does not close the action.
fn split_action(s: &str) -> Result<(&str, bool, bool, &str), String> {
    let unclosed = || format!("unclosed '{{{{' before '{}'", head(s));
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q == '"' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '`' => quote = Some(c),
            '}' if s[i..].starts_with("}}") => {
                let mut body = &s[..i];
                let trim_before = body.starts_with("- ") || body == "-";
                if trim_before {
                    body = &body[1..];
                }
                let trim_after = body.ends_with(" -");
                if trim_after {
                    body = &body[..body.len() - 1];
                }
                return Ok((body, trim_before, trim_after, &s[i + 2..]));
            }
            _ => {}
        }
    }
    Err(unclosed())
}

fn head(s: &str) -> String {
    let h: String = s.chars().take(20).collect();
    if h.len() < s.len() {
        format!("{h}…")
    } else {
        h
    }
}

fn func(name: &str) -> Result<Option<Func>, String> {
    Ok(Some(match name {
        "printf" => Func::Printf,
        "not" => Func::Not,
        "eq" => Func::Eq,
        "ne" => Func::Ne,
        "true" | "false" => return Ok(None),
        "if" | "else" | "end" => return Err(format!("'{name}' must start its own action")),
        _ => return Err(format!("'{name}' is not supported ({KNOWN})")),
    }))
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Field(f) => format!("'.{f}'"),
        Tok::Ident(w) => format!("'{w}'"),
        Tok::Lit(v) => format!("'{}'", v.text()),
        Tok::Open => "'('".into(),
        Tok::Close => "')'".into(),
    }
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut rest = s.trim_start();
    while let Some(c) = rest.chars().next() {
        let (tok, len) = match c {
            '(' => (Tok::Open, 1),
            ')' => (Tok::Close, 1),
            '"' => {
                let (v, n) = go_string(rest)?;
                (Tok::Lit(Value::Str(v)), n)
            }
            '`' => {
                let end = rest[1..].find('`').ok_or("unclosed `raw string`")?;
                (Tok::Lit(Value::Str(rest[1..1 + end].to_string())), end + 2)
            }
            '.' => {
                let n = 1 + word_len(&rest[1..]);
                if n == 1 {
                    return Err("'.' alone is not supported, name a field: {{.Field}}".into());
                }
                if rest[n..].starts_with('.') {
                    return Err(format!("'{}' has no sub-fields", &rest[..n]));
                }
                (Tok::Field(rest[1..n].to_string()), n)
            }
            '-' | '0'..='9' => {
                let n = 1 + rest[1..]
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len() - 1);
                let v: i64 = rest[..n]
                    .parse()
                    .map_err(|_| format!("bad number '{}'", &rest[..n]))?;
                (Tok::Lit(Value::Int(v)), n)
            }
            c if c.is_alphabetic() || c == '_' => {
                let n = word_len(rest);
                let w = &rest[..n];
                let t = match w {
                    "true" => Tok::Lit(Value::Bool(true)),
                    "false" => Tok::Lit(Value::Bool(false)),
                    _ => Tok::Ident(w.to_string()),
                };
                (t, n)
            }
            '|' => return Err(format!("pipelines ('|') are not supported ({KNOWN})")),
            '$' => return Err(format!("variables ('$') are not supported ({KNOWN})")),
            other => return Err(format!("unexpected '{other}' in an action")),
        };
        let value = matches!(tok, Tok::Lit(_) | Tok::Field(_));
        toks.push(tok);
        let after = &rest[len..];
        if let Some(c) = after
            .chars()
            .next()
            .filter(|c| value && !c.is_whitespace() && *c != ')')
        {
            // `.Name.x`, `"a"b`, `3.5`: Go refuses these too.
            return Err(format!("unexpected '{c}' after '{}'", &rest[..len]));
        }
        rest = after.trim_start();
    }
    Ok(toks)
}

fn word_len(s: &str) -> usize {
    s.find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len())
}

/// A Go interpreted string literal at the start of `s`: its value and its length.
fn go_string(s: &str) -> Result<(String, usize), String> {
    let mut out = String::new();
    let mut it = s.char_indices().skip(1);
    while let Some((i, c)) = it.next() {
        match c {
            '"' => return Ok((out, i + 1)),
            '\\' => {
                let (_, e) = it.next().ok_or("unclosed \"string\"")?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'v' => out.push('\u{b}'),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String =
                            (0..n).filter_map(|_| it.next().map(|(_, h)| h)).collect();
                        let ch = u32::from_str_radix(&hex, 16)
                            .ok()
                            .filter(|_| hex.len() == n)
                            .and_then(char::from_u32)
                            .ok_or_else(|| format!("bad escape '\\{e}{hex}'"))?;
                        out.push(ch);
                    }
                    other => return Err(format!("unknown escape '\\{other}' in a string")),
                }
            }
            '\n' => return Err("newline in a \"string\"".into()),
            c => out.push(c),
        }
    }
    Err("unclosed \"string\"".into())
}

// ------------------------------------------------------------ printf

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Verb(Spec),
}

#[derive(Debug, Clone, Copy, Default)]
struct Spec {
    minus: bool,
    plus: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
    verb: char,
}

/// The widest width or precision accepted (keeps output bounded).
const MAX_WIDTH: usize = 1000;

fn parse_format(f: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut it = f.chars().peekable();
    while let Some(c) = it.next() {
        if c != '%' {
            text.push(c);
            continue;
        }
        let mut s = Spec::default();
        while let Some(&fl) = it.peek() {
            match fl {
                '-' => s.minus = true,
                '+' => s.plus = true,
                '0' => s.zero = true,
                _ => break,
            }
            it.next();
        }
        s.width = number(&mut it)?;
        if it.peek() == Some(&'.') {
            it.next();
            s.precision = Some(number(&mut it)?.unwrap_or(0));
        }
        match it.next() {
            Some('%') if s.width.is_none() && s.precision.is_none() => text.push('%'),
            Some(v @ ('s' | 'd' | 'v' | 'q')) => {
                s.verb = v;
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Verb(s));
            }
            Some(v) => {
                return Err(format!(
                    "printf verb '%{v}' is not supported (supported: %s %d %v %q %%)"
                ))
            }
            None => return Err(format!("printf format \"{f}\" ends with '%'")),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

fn number(it: &mut std::iter::Peekable<std::str::Chars>) -> Result<Option<usize>, String> {
    let mut n: Option<usize> = None;
    while let Some(d) = it.peek().and_then(|c| c.to_digit(10)) {
        it.next();
        let v = n.unwrap_or(0) * 10 + d as usize;
        if v > MAX_WIDTH {
            return Err(format!("printf width or precision above {MAX_WIDTH}"));
        }
        n = Some(v);
    }
    Ok(n)
}

fn printf(pieces: &[Piece], vals: &[Value]) -> String {
    let mut out = String::new();
    let mut args = vals.iter();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Verb(s) => {
                let v = args.next().cloned().unwrap_or(Value::Str(String::new()));
                out.push_str(&format_one(s, &v));
            }
        }
    }
    out
}

fn format_one(s: &Spec, v: &Value) -> String {
    let body = match s.verb {
        'd' => return integer(s, v),
        'q' => quote(&v.text()),
        _ => v.text(),
    };
    let body = match s.precision {
        Some(p) if s.verb != 'q' => body.chars().take(p).collect(),
        _ => body,
    };
    pad(s, body, false)
}

/// `%d`: integers, and text that reads as one; anything else the Go way (`%!d(string=x)`).
fn integer(s: &Spec, v: &Value) -> String {
    let n = match v {
        Value::Int(n) => *n,
        Value::Str(t) => match t.trim().parse::<i64>() {
            Ok(n) => n,
            Err(_) => return format!("%!d({}={})", v.type_name(), t),
        },
        Value::Bool(_) => return format!("%!d(bool={})", v.text()),
    };
    let mut digits = n.unsigned_abs().to_string();
    if let Some(p) = s.precision {
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    let sign = if n < 0 {
        "-"
    } else if s.plus {
        "+"
    } else {
        ""
    };
    pad(s, format!("{sign}{digits}"), s.precision.is_none())
}

/// Pad to the width: spaces on the left, on the right with `-`, zeros after the sign
/// with `0` (numbers only).
fn pad(s: &Spec, body: String, numeric: bool) -> String {
    let len = body.chars().count();
    let Some(w) = s.width.filter(|w| *w > len) else {
        return body;
    };
    let fill = w - len;
    if s.minus {
        format!("{body}{}", " ".repeat(fill))
    } else if s.zero && numeric {
        let (sign, digits) = match body.strip_prefix(['-', '+']) {
            Some(d) => (&body[..1], d),
            None => ("", body.as_str()),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

/// Go's `%q`: a double-quoted string with Go escapes.
fn quote(t: &str) -> String {
    let mut out = String::from("\"");
    for c in t.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &[&str] = &["Name", "Size", "Type", "Empty", "Zero"];

    fn r(src: &str) -> String {
        Template::parse(src, F)
            .unwrap_or_else(|e| panic!("{src}: {e}"))
            .render(|f| match f {
                "Name" => "a.txt".into(),
                "Size" => "1234".into(),
                "Type" => "File".into(),
                "Zero" => "0".into(),
                _ => String::new(),
            })
    }

    fn err(src: &str) -> String {
        let e = Template::parse(src, F).expect_err(src);
        assert!(!e.contains('\n'), "{e}");
        assert!(e.starts_with("template error: "), "{e}");
        e
    }

    #[test]
    fn fields_text_and_escapes() {
        assert_eq!(r("v={{.Name}} {{ .Type }}\\n"), "v=a.txt File\n");
        assert_eq!(r("{{.Name}}\\t{{.Size}}"), "a.txt\t1234");
        assert_eq!(r("a }} b"), "a }} b");
        assert_eq!(r("{{\"x\\ty\"}}{{`raw\\t`}}"), "x\tyraw\\t");
        assert_eq!(r("{{\"}}\"}}"), "}}");
        assert_eq!(r("{{/* note */}}x"), "x");
        assert_eq!(r("a  {{- .Name -}}  b"), "aa.txtb");
        assert_eq!(r("{{-3}}"), "-3");
        err("{{.Nope}}");
        err("{{.Name");
        err("{{Name}}");
        err("{{}}");
        err("{{\"open}}");
    }

    #[test]
    fn conditions() {
        assert_eq!(r("{{if .Name}}y{{else}}n{{end}}"), "y");
        assert_eq!(r("{{if .Empty}}y{{else}}n{{end}}"), "n");
        // Every field is text, as in the reference: "0" is not empty.
        assert_eq!(r("{{if .Zero}}y{{end}}"), "y");
        assert_eq!(r("{{if 0}}y{{else}}n{{end}}"), "n");
        assert_eq!(r("{{if false}}y{{else if .Name}}e{{end}}"), "e");
        assert_eq!(r("{{if not .Empty}}ok{{end}}"), "ok");
        assert_eq!(
            r("{{if eq .Type \"Folder\"}}{{.Name}}/{{else}}{{.Name}}{{end}}"),
            "a.txt"
        );
        assert_eq!(r("{{if eq .Type \"x\" \"File\"}}1{{end}}"), "1");
        assert_eq!(r("{{if ne .Type \"File\"}}1{{else}}0{{end}}"), "0");
        assert_eq!(r("{{if not (eq .Type \"File\")}}1{{else}}0{{end}}"), "0");
        assert_eq!(r("{{if .Name}}{{if .Empty}}a{{else}}b{{end}}{{end}}"), "b");
        err("{{if .Name}}x");
        err("{{else}}");
        err("{{end}}");
        err("{{if .Name}}{{else}}{{else}}{{end}}");
        err("{{if}}{{end}}");
    }

    #[test]
    fn printf_verbs() {
        assert_eq!(r("{{printf \"%-8s|\" .Name}}"), "a.txt   |");
        assert_eq!(r("{{printf \"%8s|\" .Name}}"), "   a.txt|");
        assert_eq!(r("{{printf \"%.3s\" .Name}}"), "a.t");
        assert_eq!(r("{{printf \"%06d\" .Size}}"), "001234");
        assert_eq!(r("{{printf \"%+d %d\" .Size -5}}"), "+1234 -5");
        assert_eq!(r("{{printf \"%d\" .Name}}"), "%!d(string=a.txt)");
        assert_eq!(
            r("{{printf \"%v %q 100%%\" .Type .Name}}"),
            "File \"a.txt\" 100%"
        );
        assert_eq!(r("{{printf \"%s\\t%s\\n\" .Name .Type}}"), "a.txt\tFile\n");
        assert_eq!(quote("a\"\u{1}"), "\"a\\\"\\x01\"");
        err("{{printf \"%x\" .Name}}");
        err("{{printf \"%s %s\" .Name}}");
        err("{{printf .Name}}");
        err("{{printf \"%5000s\" .Name}}");
    }

    #[test]
    fn unsupported_is_named() {
        for (src, word) in [
            ("{{range .Name}}{{end}}", "'range'"),
            ("{{with .Name}}{{end}}", "'with'"),
            ("{{.Name | printf \"%s\"}}", "pipelines"),
            ("{{$x := .Name}}", "variables"),
            ("{{len .Name}}", "'len'"),
            ("{{.Name.Sub}}", "sub-fields"),
        ] {
            let e = err(src);
            assert!(e.contains(word), "{src}: {e}");
        }
        let deep = "{{if 1}}".repeat(MAX_DEPTH + 1);
        err(&deep);
    }
}
