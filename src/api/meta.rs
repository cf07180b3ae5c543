//! User metadata (docs/protocol.md §3.11): the namespaces the server defines, a node's
//! metadata, and setting or clearing one value, with the value checked against the
//! namespace type before anything is sent.
//!
//! - [`namespaces`]: `GET /a/user-meta/namespace`.
//! - [`node_metas`]: `POST /a/meta/bulk/get` with `AllMetaProviders`.
//! - [`encode`]: the `JsonValue` of a typed value (strings JSON-escaped; numbers, booleans
//!   and dates quoted, as the web UI stores them; JSON as given).
//! - [`update`]: `PUT /a/user-meta/update`, operation `PUT`, or `DELETE` to clear.

use serde::Deserialize;
use serde_json::{json, Value};

use super::tree::{self, Node};
use super::Client;
use crate::error::{Error, Result};

/// An `idmUserMetaNamespace`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Namespace {
    #[serde(rename = "Namespace", default)]
    pub namespace: String,
    #[serde(rename = "Label", default)]
    pub label: String,
    #[serde(rename = "Order", default)]
    pub order: i64,
    /// A JSON text: `{"type":"choice","data":{"items":[{"key":..}]}}`.
    #[serde(rename = "JsonDefinition", default)]
    pub json_definition: String,
}

/// The type of a namespace, from the `type` of its JSON definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaType {
    /// `string`, `textarea` or `css_label`: free text.
    Text(String),
    /// `choice` with the allowed keys (empty = anything).
    Choice(Vec<String>),
    /// `tags`: a comma-separated list.
    Tags,
    /// `date`: Unix seconds, stored as a string.
    Date,
    /// `stars_rate`: 0 to 5.
    Stars,
    Integer,
    Boolean,
    Json,
    /// A type this client does not know: encoded after the value flag given.
    Other(String),
}

impl MetaType {
    pub fn name(&self) -> &str {
        match self {
            MetaType::Text(t) | MetaType::Other(t) => t,
            MetaType::Choice(_) => "choice",
            MetaType::Tags => "tags",
            MetaType::Date => "date",
            MetaType::Stars => "stars_rate",
            MetaType::Integer => "integer",
            MetaType::Boolean => "boolean",
            MetaType::Json => "json",
        }
    }

    /// The kind of value this type takes (`None`: any, for unknown types).
    pub fn input(&self) -> Option<InputKind> {
        match self {
            MetaType::Text(_) | MetaType::Choice(_) | MetaType::Tags | MetaType::Date => {
                Some(InputKind::Text)
            }
            MetaType::Stars | MetaType::Integer => Some(InputKind::Number),
            MetaType::Boolean => Some(InputKind::Bool),
            MetaType::Json => Some(InputKind::Json),
            MetaType::Other(_) => None,
        }
    }
}

impl Namespace {
    /// The type of the namespace; a definition that does not parse is `Other("")`.
    pub fn kind(&self) -> MetaType {
        let def: Value = serde_json::from_str(&self.json_definition).unwrap_or(Value::Null);
        let field = |name: &str| {
            def.as_object()
                .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
                .map(|(_, v)| v)
        };
        let ty = field("type").and_then(Value::as_str).unwrap_or("");
        match ty.to_ascii_lowercase().as_str() {
            t @ ("string" | "textarea" | "css_label") => MetaType::Text(t.to_string()),
            "choice" => MetaType::Choice(choice_keys(field("data"))),
            "tags" => MetaType::Tags,
            "date" => MetaType::Date,
            "stars_rate" => MetaType::Stars,
            "integer" => MetaType::Integer,
            "boolean" => MetaType::Boolean,
            "json" => MetaType::Json,
            _ => MetaType::Other(ty.to_string()),
        }
    }
}

/// `data.items[].key` of a choice definition.
fn choice_keys(data: Option<&Value>) -> Vec<String> {
    data.and_then(|d| d.get("items"))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("key").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Debug, Default, Deserialize)]
struct NamespaceCollection {
    #[serde(rename = "Namespaces", default)]
    namespaces: Vec<Namespace>,
}

/// The namespaces, by `Order` then name.
pub fn namespaces(client: &Client) -> Result<Vec<Namespace>> {
    let c: NamespaceCollection = client
        .get_json("/a/user-meta/namespace")
        .map_err(|e| e.context("cannot list the metadata namespaces"))?;
    let mut list = c.namespaces;
    list.retain(|n| !n.namespace.is_empty());
    list.sort_by(|a, b| (a.order, &a.namespace).cmp(&(b.order, &b.namespace)));
    Ok(list)
}

#[derive(Debug, Default, Deserialize)]
struct BulkResponse {
    #[serde(rename = "Nodes", default)]
    nodes: Vec<Node>,
}

/// The node `node` (already stat'ed) with all its metadata, from every meta provider.
pub fn node_metas(client: &Client, node: &Node) -> Result<Node> {
    let body = json!({"NodePaths": [node.path], "AllMetaProviders": true});
    let what = || format!("cannot read the metadata of {}", node.path);
    let r: BulkResponse = client
        .post_json_idempotent("/a/meta/bulk/get", &body)
        .map_err(|e| e.context(what()))?;
    r.nodes
        .into_iter()
        .find(|n| {
            (!n.uuid.is_empty() && n.uuid == node.uuid) || tree::clean_path(&n.path) == node.path
        })
        .ok_or_else(|| Error::failure(format!("{}: the server returned no node", what())))
}

/// A value as given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Text(String),
    Json(String),
    Number(i64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Text,
    Json,
    Number,
    Bool,
}

impl Input {
    pub fn kind(&self) -> InputKind {
        match self {
            Input::Text(_) => InputKind::Text,
            Input::Json(_) => InputKind::Json,
            Input::Number(_) => InputKind::Number,
            Input::Bool(_) => InputKind::Bool,
        }
    }
}

/// Why a value cannot be set.
#[derive(Debug, Clone, PartialEq)]
pub enum Invalid {
    /// The type takes another kind of value.
    WrongKind(InputKind),
    /// The value is out of the type's range or does not parse (the text says why).
    Value(String),
}

/// The `JsonValue` to store `input` in a namespace of type `ty`. For tags, `input` is the
/// whole new list (merge it with the stored one first: [`tags_add`]).
pub fn encode(ty: &MetaType, input: &Input) -> std::result::Result<String, Invalid> {
    if let Some(want) = ty.input() {
        if want != input.kind() {
            return Err(Invalid::WrongKind(want));
        }
    }
    let quoted = |s: &str| Value::String(s.to_string()).to_string();
    match (ty, input) {
        (MetaType::Choice(keys), Input::Text(s)) => {
            if keys.is_empty() || keys.iter().any(|k| k == s) {
                Ok(quoted(s))
            } else {
                Err(Invalid::Value(format!(
                    "'{s}' is not one of the choices: {}",
                    keys.join(", ")
                )))
            }
        }
        (MetaType::Date, Input::Text(s)) => match parse_date(s) {
            Some(t) => Ok(quoted(&t.to_string())),
            None => Err(Invalid::Value(format!(
                "'{s}' is not a date: use YYYY-MM-DD, 'YYYY-MM-DD hh:mm:ss' or YYYY-MM-DDThh:mm:ssZ (UTC)"
            ))),
        },
        (MetaType::Stars, Input::Number(n)) if !(0..=5).contains(n) => Err(Invalid::Value(
            format!("{n} is out of range: a stars rating is 0 to 5"),
        )),
        (MetaType::Tags, Input::Text(s)) => match tags_add("", s) {
            t if t.is_empty() => Err(Invalid::Value("no tag given".into())),
            t => Ok(quoted(&t)),
        },
        (_, Input::Text(s)) if s.is_empty() => Err(Invalid::Value(
            "empty value: use --operation delete to clear it".into(),
        )),
        (_, Input::Text(s)) => Ok(quoted(s)),
        (_, Input::Number(n)) => Ok(quoted(&n.to_string())),
        (_, Input::Bool(b)) => Ok(quoted(&b.to_string())),
        (_, Input::Json(s)) => match serde_json::from_str::<Value>(s) {
            Ok(_) => Ok(s.trim().to_string()),
            Err(e) => Err(Invalid::Value(format!("invalid JSON: {e}"))),
        },
    }
}

/// The tags of a stored tags value (`"a,b"` → `[a, b]`).
pub fn tags_of(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// `current` tags plus those of `add` (comma-separated) not already there.
pub fn tags_add(current: &str, add: &str) -> String {
    let mut tags = tags_of(current);
    for t in tags_of(add) {
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    tags.join(",")
}

/// `current` tags without those of `remove`.
pub fn tags_remove(current: &str, remove: &str) -> String {
    let gone = tags_of(remove);
    let tags: Vec<String> = tags_of(current)
        .into_iter()
        .filter(|t| !gone.contains(t))
        .collect();
    tags.join(",")
}

/// A stored `JsonValue` for display: a JSON string unquoted, anything else as is.
pub fn display_value(raw: &str) -> String {
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::String(s)) => s,
        _ => raw.to_string(),
    }
}

/// A stored `JsonValue` as JSON: decoded when it parses, else the raw text as a string.
pub fn json_value(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

/// Set (`Some(json_value)`, operation `PUT`) or clear (`None`, operation `DELETE`) the
/// value of namespace `ns` on node `node_uuid`.
pub fn update(client: &Client, node_uuid: &str, ns: &str, value: Option<&str>) -> Result<()> {
    let body = match value {
        Some(v) => json!({"Operation": "PUT",
            "MetaDatas": [{"NodeUuid": node_uuid, "Namespace": ns, "JsonValue": v}]}),
        None => json!({"Operation": "DELETE",
            "MetaDatas": [{"NodeUuid": node_uuid, "Namespace": ns}]}),
    };
    let _: Value = client
        .put_json("/a/user-meta/update", &body)
        .map_err(|e| e.context(format!("cannot update {ns}")))?;
    Ok(())
}

/// Unix seconds of a UTC date: `YYYY-MM-DD`, `YYYY-MM-DD hh:mm:ss` or
/// `YYYY-MM-DDThh:mm:ss[Z]`.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, t.strip_suffix('Z').unwrap_or(t)),
        None => (s, "00:00:00"),
    };
    let num = |t: &str, len: usize| -> Option<i64> {
        (t.len() == len && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let d: Vec<&str> = date.split('-').collect();
    let t: Vec<&str> = time.split(':').collect();
    if d.len() != 3 || t.len() != 3 {
        return None;
    }
    let (y, m, day) = (num(d[0], 4)?, num(d[1], 2)?, num(d[2], 2)?);
    let (hh, mm, ss) = (num(t[0], 2)?, num(t[1], 2)?, num(t[2], 2)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || day < 1 || day > month_days[(m - 1) as usize] {
        return None;
    }
    if hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    Some(days_from_civil(y, m, day) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(def: &str) -> MetaType {
        Namespace {
            json_definition: def.into(),
            ..Default::default()
        }
        .kind()
    }

    #[test]
    fn types_from_definitions() {
        assert_eq!(ns(r#"{"type":"tags"}"#), MetaType::Tags);
        assert_eq!(ns(r#"{"Type":"STARS_RATE"}"#), MetaType::Stars);
        assert_eq!(
            ns(r#"{"type":"choice","data":{"items":[{"key":"a","value":"A"},{"key":"b"}]}}"#),
            MetaType::Choice(vec!["a".into(), "b".into()])
        );
        assert_eq!(ns("not json"), MetaType::Other(String::new()));
        assert_eq!(ns(r#"{"type":"css_label"}"#).name(), "css_label");
    }

    #[test]
    fn encoding() {
        let t = |s: &str| Input::Text(s.into());
        assert_eq!(
            encode(&MetaType::Text("string".into()), &t(r#"say "hi"\"#)).unwrap(),
            r#""say \"hi\"\\""#
        );
        assert_eq!(
            encode(&MetaType::Stars, &Input::Number(4)).unwrap(),
            "\"4\""
        );
        assert!(matches!(
            encode(&MetaType::Stars, &Input::Number(6)),
            Err(Invalid::Value(_))
        ));
        assert_eq!(
            encode(&MetaType::Stars, &t("4")),
            Err(Invalid::WrongKind(InputKind::Number))
        );
        assert_eq!(
            encode(&MetaType::Boolean, &Input::Bool(false)).unwrap(),
            "\"false\""
        );
        assert_eq!(
            encode(&MetaType::Json, &Input::Json(" {\"a\":1} ".into())).unwrap(),
            "{\"a\":1}"
        );
        assert!(encode(&MetaType::Json, &Input::Json("{".into())).is_err());
        let choice = MetaType::Choice(vec!["Draft".into()]);
        assert_eq!(encode(&choice, &t("Draft")).unwrap(), "\"Draft\"");
        assert!(matches!(encode(&choice, &t("x")), Err(Invalid::Value(_))));
        assert_eq!(
            encode(&MetaType::Date, &t("2024-02-29 12:00:00")).unwrap(),
            "\"1709208000\""
        );
        assert_eq!(
            encode(&MetaType::Other("x".into()), &Input::Number(3)).unwrap(),
            "\"3\""
        );
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01T00:00:01Z"), Some(951_868_801));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_date("2024-01-01 24:00:00"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("2024-1-01"), None);
    }

    #[test]
    fn tags() {
        assert_eq!(tags_add("", "a"), "a");
        assert_eq!(tags_add("a,b", "b, c"), "a,b,c");
        assert_eq!(tags_remove("a,b,c", "b"), "a,c");
        assert_eq!(tags_remove("a", "a"), "");
        assert_eq!(display_value("\"x\""), "x");
        assert_eq!(display_value("true"), "true");
        assert_eq!(json_value("{\"a\":1}"), json!({"a":1}));
    }
}
