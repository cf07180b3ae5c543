//! ASCII tables in the reference's style (docs/compatibility.md §8.1), fitted to the terminal.
//!
//! ```text
//! +--------+-----------------+
//! |  TYPE  |      NAME       |
//! +--------+-----------------+
//! | Folder | .               |
//! +--------+-----------------+
//! ```
//! Usage: `let mut t = Table::new(&["Type", "Name"]); t.row(vec![..]); t.print();`

use super::width::{str_width, wrap};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Numbers right, everything else left (tablewriter default).
    Default,
    Left,
}

#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Cell alignment.
    pub align: Align,
    /// Headers left-aligned instead of centred.
    pub header_left: bool,
    /// Word-wrap cells wider than 30 columns (on by default).
    pub wrap: bool,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
            align: Align::Default,
            header_left: false,
            wrap: true,
        }
    }

    /// Add a row (missing cells are blank, extra cells dropped).
    pub fn row(&mut self, mut cells: Vec<String>) -> &mut Self {
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
        self
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Print on stdout, fitted to the terminal width when stdout is a terminal
    /// (where control characters in cells are shown escaped).
    pub fn print(&self) {
        if !super::is_stdout_tty() {
            return super::print_out(&self.render(None));
        }
        let mut safe = self.clone();
        for cell in safe.rows.iter_mut().flatten() {
            *cell = super::escape_control(cell).into_owned();
        }
        super::print_out(&safe.render(super::terminal_width()));
    }

    /// Tab-separated lines (header first), for scripts.
    pub fn render_plain(&self) -> String {
        let mut s = String::new();
        for r in std::iter::once(&self.headers).chain(self.rows.iter()) {
            s.push_str(&r.join("\t"));
            s.push('\n');
        }
        s
    }

    /// Render; `max_width` (total line width) shrinks the widest columns by wrapping.
    pub fn render(&self, max_width: Option<usize>) -> String {
        let ncol = self.headers.len();
        if ncol == 0 {
            return String::new();
        }
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|h| h.to_uppercase().replace('_', " "))
            .collect();
        // Per-column cap: 30 when wrapping, unlimited otherwise.
        let natural = |col: usize, cap: Option<usize>| -> usize {
            let mut w = str_width(&headers[col]);
            for r in &self.rows {
                for line in wrap(&r[col], cap, false) {
                    w = w.max(str_width(&line));
                }
            }
            w
        };
        let base_cap = if self.wrap { Some(30) } else { None };
        let mut caps: Vec<Option<usize>> = vec![base_cap; ncol];
        let mut widths: Vec<usize> = (0..ncol).map(|c| natural(c, caps[c])).collect();
        if let Some(maxw) = max_width {
            // Total = sum(widths) + 3*ncol + 1.
            let total = |w: &Vec<usize>| w.iter().sum::<usize>() + 3 * ncol + 1;
            // Columns of single words (ids, hashes, names) are cut only once the
            // columns holding text that wraps on spaces are at their floor.
            let atomic: Vec<bool> = (0..ncol)
                .map(|c| !self.rows.iter().any(|r| r[c].contains(char::is_whitespace)))
                .collect();
            let floor = |c: usize| str_width(&headers[c]).max(6);
            let mut guard = 0;
            while total(&widths) > maxw && guard < 10_000 {
                guard += 1;
                let pick = |allow_atomic: bool| {
                    (0..ncol)
                        .filter(|&c| widths[c] > floor(c) && (allow_atomic || !atomic[c]))
                        .max_by_key(|&c| widths[c])
                };
                let Some(i) = pick(false).or_else(|| pick(true)) else {
                    break;
                };
                caps[i] = Some(widths[i] - 1);
                widths[i] -= 1;
            }
            // Recompute with forced breaking for shrunk columns.
            for c in 0..ncol {
                if caps[c] != base_cap {
                    widths[c] = caps[c].unwrap_or(widths[c]);
                }
            }
        }
        let forced: Vec<bool> = (0..ncol).map(|c| caps[c] != base_cap).collect();
        let mut out = String::new();
        let sep = {
            let mut s = String::from("+");
            for w in &widths {
                s.push_str(&"-".repeat(w + 2));
                s.push('+');
            }
            s.push('\n');
            s
        };
        out.push_str(&sep);
        out.push('|');
        for (c, h) in headers.iter().enumerate() {
            let pad = widths[c].saturating_sub(str_width(h));
            let (l, r) = if self.header_left {
                (0, pad)
            } else {
                (pad / 2, pad - pad / 2)
            };
            out.push_str(&format!(" {}{}{} |", " ".repeat(l), h, " ".repeat(r)));
        }
        out.push('\n');
        out.push_str(&sep);
        for row in &self.rows {
            let cells: Vec<Vec<String>> = (0..ncol)
                .map(|c| {
                    let cap = if forced[c] { Some(widths[c]) } else { caps[c] };
                    let mut lines = wrap(&row[c], cap, forced[c]);
                    if lines.is_empty() {
                        lines.push(String::new());
                    }
                    lines
                })
                .collect();
            let height = cells.iter().map(|l| l.len()).max().unwrap_or(1);
            for li in 0..height {
                out.push('|');
                for c in 0..ncol {
                    let text = cells[c].get(li).map(String::as_str).unwrap_or("");
                    let pad = widths[c].saturating_sub(str_width(text));
                    let right = self.align == Align::Default && looks_numeric(&row[c]);
                    if right {
                        out.push_str(&format!(" {}{} |", " ".repeat(pad), text));
                    } else {
                        out.push_str(&format!(" {}{} |", text, " ".repeat(pad)));
                    }
                }
                out.push('\n');
            }
        }
        out.push_str(&sep);
        out
    }
}

/// tablewriter's numeric test: `-?[0-9,]+(\.[0-9]+)?` or a percentage.
fn looks_numeric(s: &str) -> bool {
    let s = s.trim();
    let s = s.strip_suffix('%').unwrap_or(s);
    let s = s.strip_prefix('-').unwrap_or(s);
    if s.is_empty() {
        return false;
    }
    let (int, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    !int.is_empty()
        && int.chars().all(|c| c.is_ascii_digit() || c == ',')
        && int.chars().any(|c| c.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_style() {
        let mut t = Table::new(&["Type", "Name"]);
        t.row(vec!["Folder".into(), ".".into()]);
        t.row(vec!["File".into(), "Garden.jpeg".into()]);
        assert_eq!(
            t.render(None),
            "+--------+-------------+\n|  TYPE  |    NAME     |\n+--------+-------------+\n| Folder | .           |\n| File   | Garden.jpeg |\n+--------+-------------+\n"
        );
    }

    #[test]
    fn numbers_right_and_wrap() {
        let mut t = Table::new(&["n", "text"]);
        t.row(vec!["12".into(), "a b".into()]);
        t.row(vec!["1234".into(), "x".repeat(10)]);
        let s = t.render(None);
        assert!(s.contains("|   12 | a b        |"), "{s}");
        let mut t = Table::new(&["a"]);
        t.row(vec!["word ".repeat(10).trim().to_string()]);
        let s = t.render(None);
        assert!(s.lines().count() > 5, "{s}");
    }

    #[test]
    fn fits_width() {
        let mut t = Table::new(&["Type", "Name"]);
        t.row(vec![
            "File".into(),
            "averyveryverylongnamewithoutspaces.txt".into(),
        ]);
        let s = t.render(Some(30));
        assert!(s.lines().all(|l| str_width(l) <= 30), "{s}");
        assert!(s.contains("averyvery"));
    }

    #[test]
    fn text_columns_shrink_before_ids() {
        let uuid = "1632b925-439a-485d-86b4-415d176357d4";
        let mut t = Table::new(&["Uuid", "Modified"]);
        t.row(vec![uuid.into(), "26 seconds ago".into()]);
        let natural = str_width(t.render(None).lines().next().unwrap());
        let s = t.render(Some(natural - 2));
        assert!(s.lines().all(|l| str_width(l) <= natural - 2), "{s}");
        assert!(s.contains(uuid), "{s}");
    }

    #[test]
    fn empty() {
        let t = Table::new(&["a", "b"]);
        assert_eq!(t.render(None).lines().count(), 4);
    }
}
