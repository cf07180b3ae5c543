//! The three shapes of a list command's output (`idm list-*`, `storage list-datasources`,
//! `jobs get`, the `ls` conventions):
//! - on a terminal: a legend line, then the table (server text escaped);
//! - otherwise: the rows only, tab-separated, without header (for `cut`, `awk`); a
//!   backslash, tab or line break inside a cell is written `\\`, `\t`, `\n` (`\r`), so
//!   that a row is always one line (exact values: `--json`);
//! - `--json`: one JSON object per line.

use super::Table;

/// Print `table` as a terminal listing (legend + table) or as plain rows for pipes.
pub fn print_listing(legend: &str, table: &Table) {
    if super::is_stdout_tty() {
        super::println_out(&super::escape_control(legend));
        table.print();
    } else {
        super::print_out(&plain_rows(table));
    }
}

/// The rows of `table`, tab-separated, without the header line (cells escaped).
pub fn plain_rows(table: &Table) -> String {
    let mut out = String::new();
    for row in table.rows() {
        let cells: Vec<String> = row.iter().map(|c| escape_cell(c)).collect();
        out.push_str(&cells.join("\t"));
        out.push('\n');
    }
    out
}

/// A cell of a tab-separated row: `\`, tab, CR and LF as backslash escapes.
fn escape_cell(c: &str) -> String {
    if !c.contains(['\\', '\t', '\n', '\r']) {
        return c.to_string();
    }
    let mut out = String::with_capacity(c.len() + 4);
    for ch in c.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            ch => out.push(ch),
        }
    }
    out
}

/// One compact JSON object per line.
pub fn print_json_lines<'a>(values: impl IntoIterator<Item = &'a serde_json::Value>) {
    let mut out = String::new();
    for v in values {
        out.push_str(&v.to_string());
        out.push('\n');
    }
    super::print_out(&out);
}

/// `"1 user"` / `"3 users"`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_without_header() {
        let mut t = Table::new(&["Login", "Uuid"]);
        t.row(vec!["admin".into(), "u1".into()]);
        t.row(vec!["bob".into(), String::new()]);
        assert_eq!(plain_rows(&t), "admin\tu1\nbob\t\n");
        let mut t = Table::new(&["a", "b"]);
        t.row(vec!["x\ty".into(), "l1\nl2\\".into()]);
        assert_eq!(plain_rows(&t), "x\\ty\tl1\\nl2\\\\\n");
        assert_eq!(plain_rows(&Table::new(&["a"])), "");
        assert_eq!(count(1, "user", "users"), "1 user");
        assert_eq!(count(0, "user", "users"), "0 users");
    }
}
