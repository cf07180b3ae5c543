//! The three shapes of a list command's output (`idm list-*`, `storage list-datasources`,
//! `jobs get`, the `ls` conventions):
//! - on a terminal: a legend line, then the table (server text escaped);
//! - otherwise: the rows only, tab-separated, without header (for `cut`, `awk`);
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

/// The rows of `table`, tab-separated, without the header line.
pub fn plain_rows(table: &Table) -> String {
    let plain = table.render_plain();
    plain
        .split_once('\n')
        .map(|(_, rows)| rows.to_string())
        .unwrap_or_default()
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
        assert_eq!(plain_rows(&Table::new(&["a"])), "");
        assert_eq!(count(1, "user", "users"), "1 user");
        assert_eq!(count(0, "user", "users"), "0 users");
    }
}
