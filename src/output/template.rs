//! A small template language: literal text with `{{.Field}}` placeholders
//! (spaces inside the braces allowed: `{{ .Name }}`). Escapes `\n` and `\t` in
//! the literal text are turned into newline/tab. Used by `version -f` and
//! `ls --format`.
//!
//! ```ignore
//! let t = Template::parse("{{.Name}}\t{{.Size}}", &["Name", "Size"])?; // Err(msg) → usage error
//! let line = t.render(|field| lookup(field));
//! ```

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Field(&'static str),
}

#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parse `src`; every field must be one of `fields`. The error message is one line
    /// suitable for `Error::usage`.
    pub fn parse(src: &str, fields: &[&'static str]) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = src;
        let mut text = String::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("{{") {
                let end = after
                    .find("}}")
                    .ok_or_else(|| format!("template error: unclosed '{{{{' in '{src}'"))?;
                let inner = after[..end].trim();
                let name = inner.strip_prefix('.').ok_or_else(|| {
                    format!("template error: '{{{{{inner}}}}}' is not a field, use {{{{.Field}}}}")
                })?;
                let field = fields.iter().find(|f| **f == name).ok_or_else(|| {
                    format!(
                        "template error: unknown field '.{name}' (available: {})",
                        fields
                            .iter()
                            .map(|f| format!(".{f}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                parts.push(Part::Field(field));
                rest = &after[end + 2..];
            } else if let Some(after) = rest.strip_prefix("\\n") {
                text.push('\n');
                rest = after;
            } else if let Some(after) = rest.strip_prefix("\\t") {
                text.push('\t');
                rest = after;
            } else if rest.starts_with("}}") {
                return Err(format!("template error: unexpected '}}}}' in '{src}'"));
            } else {
                let c = rest.chars().next().unwrap_or(' ');
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template { parts })
    }

    /// Render with a field lookup.
    pub fn render(&self, mut value: impl FnMut(&str) -> String) -> String {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => s.push_str(t),
                Part::Field(f) => s.push_str(&value(f)),
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn templates() {
        let t = Template::parse("v={{.Version}} {{ .OS }}\\n", &["Version", "OS"]).unwrap();
        assert_eq!(t.render(|f| f.to_lowercase()), "v=version os\n");
        assert!(Template::parse("{{.Nope}}", &["A"]).is_err());
        assert!(Template::parse("{{.A", &["A"]).is_err());
        assert!(Template::parse("{{A}}", &["A"]).is_err());
    }
}
