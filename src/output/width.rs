//! Display width of text (East-Asian wide characters count 2, combining marks 0)
//! and word wrapping.

/// Display columns of one character.
pub fn char_width(c: char) -> usize {
    let u = c as u32;
    if u == 0 || (0x300..=0x36F).contains(&u) || (0x200B..=0x200F).contains(&u) || u == 0xFE0F {
        return 0;
    }
    if c.is_control() {
        return 0;
    }
    let wide = matches!(u,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF |
        0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF |
        0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F |
        0x1F900..=0x1F9FF | 0x20000..=0x3FFFD);
    if wide {
        2
    } else {
        1
    }
}

/// Display columns of a string.
pub fn str_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// Split on '\n', then word-wrap each line to `cap` columns on whitespace. Words
/// longer than `cap` stay whole unless `force` (then they are cut).
pub fn wrap(s: &str, cap: Option<usize>, force: bool) -> Vec<String> {
    let mut out = Vec::new();
    for line in s.split('\n') {
        let Some(cap) = cap.filter(|c| *c > 0) else {
            out.push(line.to_string());
            continue;
        };
        if str_width(line) <= cap {
            out.push(line.to_string());
            continue;
        }
        let mut cur = String::new();
        for word in line.split_whitespace() {
            let mut word = word.to_string();
            loop {
                let ww = str_width(&word);
                let cw = str_width(&cur);
                if cur.is_empty() && ww <= cap {
                    cur = word;
                    break;
                }
                if !cur.is_empty() && cw + 1 + ww <= cap {
                    cur.push(' ');
                    cur.push_str(&word);
                    break;
                }
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    continue;
                }
                // Word alone wider than cap.
                if !force {
                    out.push(word);
                    break;
                }
                let mut head = String::new();
                let mut hw = 0;
                let mut rest = String::new();
                for c in word.chars() {
                    let w = char_width(c);
                    if rest.is_empty() && (hw + w <= cap || head.is_empty()) {
                        head.push(c);
                        hw += w;
                    } else {
                        rest.push(c);
                    }
                }
                out.push(head);
                if rest.is_empty() {
                    break;
                }
                word = rest;
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn widths() {
        assert_eq!(str_width("abc"), 3);
        assert_eq!(str_width("日本"), 4);
        assert_eq!(wrap("aa bb cc", Some(5), false), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", Some(3), true), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("abcdefgh", Some(3), false), vec!["abcdefgh"]);
    }
}
