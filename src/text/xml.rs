//! Tiny XML scanners for the few S3 responses cec reads. Not a general XML
//! parser: S3 responses are flat, attribute-free (apart from the root's
//! namespace) and small; comments and CDATA are not produced by S3 servers.

/// Name of the root element (after an optional `<?xml ...?>` prolog).
pub fn root_name(xml: &str) -> Option<&str> {
    let mut rest = xml;
    loop {
        let start = rest.find('<')?;
        rest = &rest[start + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            let end = rest.find('>')?;
            rest = &rest[end + 1..];
            continue;
        }
        let end = rest.find(|c: char| c == '>' || c == '/' || c.is_whitespace())?;
        return Some(&rest[..end]);
    }
}

/// Raw inner text of every `<tag>…</tag>` (also `<tag attr="…">`) in order,
/// not unescaped. Nested elements of another name are returned verbatim.
pub fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        // Make sure this is exactly `tag` (not a longer name with the same prefix).
        let Some(c) = after.chars().next() else { break };
        if c != '>' && c != '/' && !c.is_whitespace() {
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else { break };
        if after[..gt].ends_with('/') {
            out.push("");
            rest = &after[gt + 1..];
            continue;
        }
        let body = &after[gt + 1..];
        let Some(end) = body.find(&close) else { break };
        out.push(&body[..end]);
        rest = &body[end + close.len()..];
    }
    out
}

/// Unescaped text of the first `<tag>` element, if any.
pub fn first(xml: &str, tag: &str) -> Option<String> {
    elements(xml, tag).first().map(|s| unescape(s.trim()))
}

/// Resolve the five predefined entities and numeric character references.
pub fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(semi) = rest.find(';') else { break };
        let ent = &rest[1..semi];
        let rep = match ent {
            "quot" => Some('"'),
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "apos" => Some('\''),
            _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                u32::from_str_radix(&ent[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match rep {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Escape text for an XML element body.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_initiate() {
        let x = r#"<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>io</Bucket><Key>personal-files/big.iso</Key><UploadId>0f3c2a1b-x</UploadId></InitiateMultipartUploadResult>"#;
        assert_eq!(root_name(x), Some("InitiateMultipartUploadResult"));
        assert_eq!(first(x, "UploadId").as_deref(), Some("0f3c2a1b-x"));
        assert_eq!(first(x, "Upload"), None);
    }

    #[test]
    fn scan_parts() {
        let x = "<ListPartsResult><IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag><Size>5</Size></Part><Part><PartNumber>2</PartNumber><ETag>\"def\"</ETag><Size>3</Size></Part><PartNumberMarker/></ListPartsResult>";
        let parts = elements(x, "Part");
        assert_eq!(parts.len(), 2);
        assert_eq!(first(parts[0], "ETag").as_deref(), Some("\"abc\""));
        assert_eq!(first(parts[1], "Size").as_deref(), Some("3"));
        assert_eq!(first(x, "PartNumberMarker").as_deref(), Some(""));
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape("a&amp;b&#65;&#x42;&bogus;"), "a&bAB&bogus;");
        assert_eq!(escape("\"x\"&<"), "&quot;x&quot;&amp;&lt;");
        assert_eq!(root_name("<Error><Code>x</Code></Error>"), Some("Error"));
    }
}
