//! `cec meta get -p PATH [-f table|json] [-n NS]`, `cec meta get --all` and
//! `cec meta set -p PATH -o update|delete -n NS [-s|-j|-r|-b VALUE]`
//! (docs/compatibility.md §7.6).
//!
//! - `get`: the node's metadata sorted by name (values decoded: strings unquoted); with
//!   `-n`, that one (exit 4 when the node has none); `-f json` prints one object
//!   `{"name": value, ...}` with the values as JSON. `--all`: the namespaces (`-f json`:
//!   one object per line with `namespace`, `label`, `type`, `order`, `definition`).
//! - `set update`: the value must suit the namespace type (flag, range, choices, date,
//!   JSON), else exit 2 and nothing is sent; tags are added to the node's current tags.
//!   `set delete` clears the value (operation `DELETE`); for tags, `-s` removes only those
//!   tags. Server refusals are errors (exit 3 for a node the account may not edit).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::api::meta::{self, Input, InputKind, Invalid, MetaType, Namespace};
use crate::api::{tree, Client};
use crate::auth::GlobalArgs;
use crate::cli::{MetaCmd, MetaOp, MetaValueKind, TableFormat};
use crate::error::{Error, Result};
use crate::output::{self, Table};

pub fn run(globals: &GlobalArgs, cmd: &MetaCmd) -> Result<()> {
    let client = crate::auth::connect(globals)?;
    match cmd {
        MetaCmd::Get {
            all: true, format, ..
        } => list_namespaces(&client, *format == TableFormat::Json),
        MetaCmd::Get {
            path,
            format,
            namespace,
            ..
        } => get(
            &client,
            path,
            *format == TableFormat::Json,
            namespace.as_deref(),
        ),
        MetaCmd::Set {
            path,
            operation,
            namespace,
            value,
            value_kind,
        } => {
            let input = value
                .as_deref()
                .map(|v| to_input(v, *value_kind))
                .transpose()?;
            set(
                &client,
                path,
                *operation == MetaOp::Delete,
                namespace,
                input,
            )
        }
    }
}

fn list_namespaces(client: &Client, json: bool) -> Result<()> {
    let list = meta::namespaces(client)?;
    if json {
        let v: Vec<Value> = list
            .iter()
            .map(|n| {
                json!({"namespace": n.namespace, "label": n.label, "type": n.kind().name(),
                    "order": n.order, "definition": meta::json_value(&n.json_definition)})
            })
            .collect();
        output::print_json_lines(&v);
        return Ok(());
    }
    let mut t = Table::new(&["Namespace", "Label", "Type", "JSON Definition"]);
    for n in &list {
        t.row(vec![
            n.namespace.clone(),
            n.label.clone(),
            n.kind().name().to_string(),
            n.json_definition.clone(),
        ]);
    }
    let legend = format!("{} metadata namespaces:", list.len());
    output::print_listing(&legend, &t);
    Ok(())
}

fn get(client: &Client, path: &str, json: bool, only: Option<&str>) -> Result<()> {
    let node = tree::stat_existing(client, path)?;
    let full = meta::node_metas(client, &node)?;
    let mut entries: BTreeMap<&String, &String> = full.meta_store.iter().collect();
    if let Some(ns) = only {
        entries.retain(|k, _| k.as_str() == ns);
        if entries.is_empty() {
            return Err(Error::not_found(format!("{}: no {ns} metadata", node.path)));
        }
    }
    if json {
        let obj: serde_json::Map<String, Value> = entries
            .iter()
            .map(|(k, v)| (k.to_string(), meta::json_value(v)))
            .collect();
        output::println_out(&Value::Object(obj).to_string());
        return Ok(());
    }
    let mut t = Table::new(&["Meta name", "Value"]);
    for (k, v) in &entries {
        t.row(vec![k.to_string(), meta::display_value(v)]);
    }
    output::print_listing(&format!("Metadata of {}:", node.path), &t);
    Ok(())
}

/// The typed value of `-s`, `-j`, `-r` or `-b` (the parser checked numbers and JSON).
fn to_input(v: &str, kind: MetaValueKind) -> Result<Input> {
    Ok(match kind {
        MetaValueKind::String => Input::Text(v.to_string()),
        MetaValueKind::Json => Input::Json(v.to_string()),
        MetaValueKind::Rate => Input::Number(
            v.parse()
                .map_err(|_| usage(format!("invalid number '{v}' for --numeric-value")))?,
        ),
        MetaValueKind::Bool => Input::Bool(v == "true"),
    })
}

fn usage(msg: String) -> Error {
    Error::usage("meta set", msg)
}

fn flag_of(k: InputKind) -> &'static str {
    match k {
        InputKind::Text => "--string-value (-s)",
        InputKind::Json => "--json-value (-j)",
        InputKind::Number => "--numeric-value (-r)",
        InputKind::Bool => "--boolean-value (-b)",
    }
}

fn set(client: &Client, path: &str, delete: bool, ns: &str, input: Option<Input>) -> Result<()> {
    let node = tree::stat_existing(client, path)?;
    let namespaces = meta::namespaces(client)?;
    let Some(def) = namespaces.iter().find(|n| n.namespace == ns) else {
        let known: Vec<&str> = namespaces.iter().map(|n| n.namespace.as_str()).collect();
        return Err(usage(format!(
            "unknown namespace {ns} (this server has: {})",
            known.join(", ")
        )));
    };
    let ty = def.kind();
    let shown = node.path.as_str();
    if delete {
        return clear(client, &node, def, &ty, input);
    }
    let Some(mut input) = input else {
        return Err(usage("update needs a value".into()));
    };
    if let (MetaType::Tags, Input::Text(add)) = (&ty, &input) {
        let current = current_value(client, &node, ns)?;
        input = Input::Text(meta::tags_add(&current, add));
    }
    let value = meta::encode(&ty, &input).map_err(|e| invalid(def, &ty, e))?;
    meta::update(client, &node.uuid, ns, Some(&value))?;
    let shown_value = meta::display_value(&value);
    errln!(
        "Set {ns} of {shown} to {}",
        output::escape_control(&shown_value)
    );
    Ok(())
}

/// `-o delete`: clear the value; for tags with `-s`, remove only those tags.
fn clear(
    client: &Client,
    node: &tree::Node,
    def: &Namespace,
    ty: &MetaType,
    input: Option<Input>,
) -> Result<()> {
    let ns = def.namespace.as_str();
    if let (MetaType::Tags, Some(Input::Text(remove))) = (ty, &input) {
        let current = current_value(client, node, ns)?;
        let left = meta::tags_remove(&current, remove);
        if meta::tags_of(&left) == meta::tags_of(&current) {
            errln!("{}: no tag {remove} in {ns}, nothing to remove", node.path);
            return Ok(());
        }
        if !left.is_empty() {
            let value = Value::String(left.clone()).to_string();
            meta::update(client, &node.uuid, ns, Some(&value))?;
            errln!("Removed {remove} from {ns} of {} (left: {left})", node.path);
            return Ok(());
        }
    }
    meta::update(client, &node.uuid, ns, None)?;
    errln!("Cleared {ns} of {}", node.path);
    Ok(())
}

/// The node's current value of `ns`, decoded (`""` when unset).
fn current_value(client: &Client, node: &tree::Node, ns: &str) -> Result<String> {
    let full = meta::node_metas(client, node)?;
    Ok(full
        .meta_store
        .get(ns)
        .map(|v| meta::display_value(v))
        .unwrap_or_default())
}

fn invalid(def: &Namespace, ty: &MetaType, e: Invalid) -> Error {
    let ns = &def.namespace;
    let ty = ty.name();
    match e {
        Invalid::WrongKind(k) => usage(format!(
            "{ns} is a {ty} namespace: give its value with {}",
            flag_of(k)
        )),
        Invalid::Value(msg) => usage(format!("invalid value for {ns} ({ty}): {msg}")),
    }
}
