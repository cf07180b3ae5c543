//! Text helpers at the bottom of the layers (no dependency on the rest of cec):
//! terminal escaping of text that came from a server, and the small XML reader of
//! S3 and Cells replies ([`xml`]).

pub mod xml;

/// Text from the server made safe for a terminal: control characters (C0, DEL, C1) and
/// the bidirectional overrides that can disguise a name are shown as escapes (`\n`,
/// `\t`, `\x1b`, `\u{202e}`), like GNU `ls` does on a terminal. Other text is unchanged.
pub fn escape_control(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 && is_unsafe_char(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// [`escape_control`] that keeps line breaks: for messages of several lines.
pub fn escape_message(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_unsafe_char(c)) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.split('\n')
            .map(|l| escape_control(l).into_owned())
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

fn is_unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_escaped() {
        assert_eq!(escape_control("plain name.txt"), "plain name.txt");
        assert_eq!(escape_control("esc\x1b[31mred"), "esc\\x1b[31mred");
        assert_eq!(escape_control("a\nb\tc\rd\x7f"), "a\\nb\\tc\\rd\\x7f");
        assert_eq!(escape_control("x\u{202e}y\u{85}"), "x\\u{202e}y\\x85");
        assert_eq!(escape_control("été ✓"), "été ✓");
        assert_eq!(escape_message("a\x1b[2J\nb\rc"), "a\\x1b[2J\nb\\rc");
    }
}
