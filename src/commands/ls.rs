//! `cec ls [PATH]` (docs/compatibility.md §4.6).
//!
//! - No PATH: the workspaces (and cells). A folder: the folder itself (`.`)
//!   then ALL its children (paged, any size). A file: its own row.
//! - Modes (at most one): default table, `-d` details table, `-r` raw paths,
//!   `-f` exists (`true`/`false` on stdout, exit 0/4), `--format TEMPLATE`,
//!   `--json` (one object per line); `-R` lists the whole tree below PATH
//!   (full paths, or `--json`).
//! - Tables are fitted to the terminal; when stdout is not a terminal the
//!   legend and hint lines are left out and rows are tab-separated (no borders).
//!
//! `--json` objects (one per line, every key always present, `null` when
//! unknown):
//! `{"type":"file"|"folder"|"workspace"|"cell","uuid":"…","name":"…",
//!   "path":"<ws>/<path>","size":<bytes>,"mtime":<unix seconds>,"hash":"…"}`
//! Workspaces and cells also carry `"label"`, `"description"`, `"permissions"` and
//! `"node_uuid"` (their root folder's node; `"uuid"` is the workspace's own UUID, the
//! same in `ls -d` and `--format '{{.Uuid}}'`: [`Node::shown_uuid`]).
//! For a folder only its children are printed (not the folder itself), as
//! with `--raw` and `--format`.

use crate::api::tree::{self, ListVia, Node, NodeKind};
use crate::auth::GlobalArgs;
use crate::cli::LsArgs;
use crate::error::Result;
use crate::output::{self, Table};
use crate::transfer::plan;

/// `--recursive`: every node below the listed folder (or below every
/// workspace), depth first; nodes the server lists under impossible names are
/// left out with a warning (the walk of `scp`/`sync`).
fn below(
    client: &crate::api::Client,
    folder: Option<&Node>,
    listed: Vec<Node>,
) -> Result<Vec<Node>> {
    let roots: Vec<Node> = match folder {
        Some(f) => vec![f.clone()],
        None => listed.into_iter().filter(Node::is_dir).collect(),
    };
    let mut out = Vec::new();
    for root in &roots {
        let mut warn = |_: String, e: crate::error::Error| errln!("Warning: {}", e.message);
        let found = plan::walk_remote(client, root, &|_| true, &mut warn)?;
        let skip = usize::from(folder.is_some());
        out.extend(found.into_iter().skip(skip).filter_map(|e| e.node));
    }
    Ok(out)
}

pub fn run(globals: &GlobalArgs, args: &LsArgs) -> Result<()> {
    let template = args.format.as_ref();
    let path = tree::clean_path(args.path.as_deref().unwrap_or(""));
    let client = crate::auth::connect(globals)?;

    if args.exists {
        let found = path.is_empty() || tree::stat(&client, &path)?.is_some();
        output::println_out(if found { "true" } else { "false" });
        return if found {
            Ok(())
        } else {
            Err(tree::not_found(&path))
        };
    }

    // rows: (node, display name); `self_row` marks the listed folder itself.
    let (self_node, children, ws_level) = if path.is_empty() {
        (None, tree::list_workspaces(&client)?, true)
    } else {
        let node = tree::stat_existing(&client, &path)?;
        if node.is_dir() {
            let kids = tree::list_children(&client, &path, ListVia::MetaBulk)?;
            (Some(node), kids, false)
        } else {
            (None, vec![node], false)
        }
    };

    let children = if args.recursive {
        below(&client, self_node.as_ref(), children)?
    } else {
        children
    };
    if args.json {
        let mut out = String::new();
        for n in &children {
            out.push_str(&json_line(n, ws_level));
            out.push('\n');
        }
        output::print_out(&out);
        return Ok(());
    }
    if args.raw || args.recursive {
        let mut out = String::new();
        for n in &children {
            out.push_str(&output::for_stdout(&n.path));
            if n.is_dir() {
                out.push('/');
            }
            out.push('\n');
        }
        output::print_out(&out);
        return Ok(());
    }
    if let Some(t) = template {
        let mut out = String::new();
        for n in &children {
            let line = t.render(|f| template_field(n, n.name(), f));
            out.push_str(&output::for_stdout(&line));
            out.push('\n');
        }
        output::print_out(&out);
        return Ok(());
    }

    // Tables: the folder itself first, shown as ".".
    let mut rows: Vec<(&Node, &str)> = Vec::new();
    if let Some(s) = &self_node {
        rows.push((s, "."));
    }
    for n in &children {
        rows.push((n, n.name()));
    }
    let table = if args.details && ws_level {
        let mut t = Table::new(&[
            "Type",
            "Uuid",
            "Name",
            "Label",
            "Description",
            "Permissions",
        ]);
        for (n, name) in &rows {
            t.row(vec![
                n.kind().label().into(),
                n.shown_uuid(),
                name.to_string(),
                n.meta("ws_label").unwrap_or_default(),
                n.meta("ws_description").unwrap_or_default(),
                n.meta("ws_permissions").unwrap_or_default(),
            ]);
        }
        t
    } else if args.details {
        let mut t = Table::new(&["Type", "Uuid", "Name", "Size", "Modified", "Internal Hash"]);
        for (n, name) in &rows {
            t.row(vec![
                n.kind().label().into(),
                n.shown_uuid(),
                name.to_string(),
                human_size(n),
                human_date(n),
                n.hash().unwrap_or_default(),
            ]);
        }
        t
    } else {
        let mut t = Table::new(&["Type", "Name"]);
        for (n, name) in &rows {
            t.row(vec![n.kind().label().into(), name.to_string()]);
        }
        t
    };

    if output::is_stdout_tty() {
        let legend = if ws_level {
            format!("Listing {} workspaces:", rows.len())
        } else {
            let n = rows.len();
            format!("Found {n} node{} at {path}:", if n == 1 { "" } else { "s" })
        };
        output::println_out(&output::escape_control(&legend));
        table.print();
        if !args.details {
            output::println_out("Get more info by adding the -d (details) flag");
        }
    } else {
        // Plain output for pipes: rows only, tab-separated.
        let plain = table.render_plain();
        let body = plain.split_once('\n').map(|x| x.1).unwrap_or("");
        output::print_out(body);
    }
    Ok(())
}

fn human_size(n: &Node) -> String {
    match n.size {
        Some(s) if s >= 0 => output::human_size(s as u64),
        _ => "-".into(),
    }
}

fn human_date(n: &Node) -> String {
    match n.mtime {
        Some(t) if t > 0 => output::relative_time(t),
        _ => "-".into(),
    }
}

/// Value of one `--format` field for node `n` shown as `name`.
pub fn template_field(n: &Node, name: &str, field: &str) -> String {
    match field {
        "Type" => n.kind().label().into(),
        "Uuid" => n.shown_uuid(),
        "Name" => name.into(),
        "Path" => n.path.clone(),
        "HumanSize" => human_size(n),
        "SizeBytes" => n.size.map(|s| s.to_string()).unwrap_or_default(),
        "TimeStamp" => n.mtime.map(|s| s.to_string()).unwrap_or_default(),
        "Date" => human_date(n),
        "Hash" => n.hash().unwrap_or_default(),
        _ => String::new(),
    }
}

/// One `--json` object (see the module documentation for the format).
pub fn json_value(n: &Node, ws_level: bool) -> serde_json::Value {
    let uuid = n.shown_uuid();
    let mut v = serde_json::json!({
        "type": n.kind().json_name(),
        "uuid": if uuid.is_empty() { None } else { Some(uuid) },
        "name": n.name(),
        "path": n.path,
        "size": n.size,
        "mtime": n.mtime,
        "hash": n.hash(),
    });
    if ws_level || matches!(n.kind(), NodeKind::Workspace | NodeKind::Cell) {
        v["label"] = n.meta("ws_label").into();
        v["description"] = n.meta("ws_description").into();
        v["permissions"] = n.meta("ws_permissions").into();
        // The root folder's node UUID (`uuid` is the workspace's), e.g. for `idm list-acls -n`.
        v["node_uuid"] = (!n.uuid.is_empty()).then(|| n.uuid.clone()).into();
    }
    v
}

fn json_line(n: &Node, ws_level: bool) -> String {
    json_value(n, ws_level).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let n: Node = serde_json::from_str(
            r#"{"Uuid":"u1","Path":"ws/a b.txt","Type":"LEAF","Size":"12","MTime":"100",
                "MetaStore":{"x-cells-hash":"\"h\""}}"#,
        )
        .unwrap();
        let v = json_value(&n, false);
        assert_eq!(
            v.to_string(),
            r#"{"hash":"h","mtime":100,"name":"a b.txt","path":"ws/a b.txt","size":12,"type":"file","uuid":"u1"}"#
        );
        assert_eq!(template_field(&n, "x", "HumanSize"), "12 B");
    }
}
