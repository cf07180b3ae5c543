//! Request-body validation against the request models of the official spec
//! (`request-schema.json` = the definitions reachable from the request bodies we serve,
//! extracted from cells-rest.swagger.json). Mirrors protojson decoding: unknown fields are
//! rejected, `null` means unset, int64 accept strings or numbers, enums names or numbers.
use std::sync::OnceLock;

use serde_json::Value;

static DEFS: OnceLock<Value> = OnceLock::new();

fn defs() -> &'static Value {
    DEFS.get_or_init(|| {
        serde_json::from_str(include_str!("request-schema.json")).expect("request-schema.json")
    })
}

/// Validate `v` against definition `name`; Err = a protojson-like message.
pub fn validate(name: &str, v: &Value) -> Result<(), String> {
    let schema = defs()
        .get(name)
        .ok_or_else(|| format!("no schema {name}"))?;
    check(schema, v, name)
}

fn resolve(s: &Value) -> &Value {
    match s.get("$ref").and_then(|r| r.as_str()) {
        Some(r) => defs()
            .get(r.rsplit('/').next().unwrap_or(""))
            .unwrap_or(&Value::Null),
        None => s,
    }
}

fn is_int_string(s: &str) -> bool {
    let t = s.strip_prefix('-').unwrap_or(s);
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

fn check(schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(schema);
    if v.is_null() {
        return Ok(());
    }
    if let Some(en) = schema.get("enum").and_then(|e| e.as_array()) {
        return match v {
            Value::String(s) if en.iter().any(|e| e.as_str() == Some(s)) => Ok(()),
            Value::Number(n) if n.as_u64().map(|i| (i as usize) < en.len()).unwrap_or(false) => {
                Ok(())
            }
            _ => Err(format!("invalid value for enum field {at}: {v}")),
        };
    }
    let ty = schema
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or("object");
    let format = schema.get("format").and_then(|t| t.as_str()).unwrap_or("");
    match ty {
        "object" => {
            let obj = v
                .as_object()
                .ok_or_else(|| format!("invalid value for message field {at}: {v}"))?;
            if let Some(props) = schema.get("properties").and_then(|p| p.as_object()) {
                for (k, fv) in obj {
                    let fs = props
                        .get(k)
                        .ok_or_else(|| format!("unknown field \"{k}\" in {at}"))?;
                    check(fs, fv, &format!("{at}.{k}"))?;
                }
            } else if let Some(ap) = schema.get("additionalProperties") {
                if ap.is_object() {
                    for (k, fv) in obj {
                        check(ap, fv, &format!("{at}[{k}]"))?;
                    }
                }
            }
            Ok(())
        }
        "array" => {
            let arr = v
                .as_array()
                .ok_or_else(|| format!("invalid value for list field {at}: {v}"))?;
            let items = schema.get("items").cloned().unwrap_or(Value::Null);
            for (i, it) in arr.iter().enumerate() {
                check(&items, it, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        "string" if format == "int64" || format == "uint64" => match v {
            Value::String(s) if is_int_string(s) => Ok(()),
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(()),
            _ => Err(format!("invalid value for int64 field {at}: {v}")),
        },
        "string" => match v {
            Value::String(_) => Ok(()),
            _ => Err(format!("invalid value for string field {at}: {v}")),
        },
        "integer" => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(()),
            Value::String(s) if is_int_string(s) => Ok(()),
            _ => Err(format!("invalid value for int32 field {at}: {v}")),
        },
        "number" => match v {
            Value::Number(_) => Ok(()),
            Value::String(s) if s.parse::<f64>().is_ok() => Ok(()),
            _ => Err(format!("invalid value for float field {at}: {v}")),
        },
        "boolean" => match v {
            Value::Bool(_) => Ok(()),
            _ => Err(format!("invalid value for bool field {at}: {v}")),
        },
        _ => Ok(()),
    }
}

/// Read an integer field that protojson accepts as a number or a string.
pub fn int(v: &Value, k: &str) -> i64 {
    match v.get(k) {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

pub fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(|x| x.as_str()).unwrap_or("")
}

pub fn bool_of(v: &Value, k: &str) -> bool {
    v.get(k).and_then(|x| x.as_bool()).unwrap_or(false)
}

/// An enum field as its name (numbers mapped through the definition's enum list).
pub fn enum_of(v: &Value, k: &str, def: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => defs()
            .get(def)
            .and_then(|d| d.get("enum"))
            .and_then(|e| e.as_array())
            .and_then(|e| e.get(n.as_u64().unwrap_or(0) as usize))
            .and_then(|s| s.as_str())
            .unwrap_or("")
            .to_string(),
        _ => String::new(),
    }
}

pub fn arr<'a>(v: &'a Value, k: &str) -> Vec<&'a Value> {
    v.get(k)
        .and_then(|x| x.as_array())
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

pub fn strs(v: &Value, k: &str) -> Vec<String> {
    arr(v, k)
        .into_iter()
        .filter_map(|x| x.as_str().map(String::from))
        .collect()
}

/// Remove zero values (protojson omits them): null, false, 0, "", [], {} in message
/// fields. Map-typed fields (listed in MAPS) keep their entries.
pub fn prune(v: &mut Value) {
    const MAPS: &[&str] = &[
        "MetaStore",
        "Attributes",
        "StorageConfiguration",
        "TargetUsers",
        "Metadata",
        "VersionMeta",
        "RootNodes",
    ];
    if let Value::Object(m) = v {
        let keys: Vec<String> = m.keys().cloned().collect();
        for k in keys {
            let zero = {
                let f = m.get_mut(&k).unwrap();
                if MAPS.contains(&k.as_str()) && f.is_object() {
                    if let Value::Object(inner) = f {
                        for (_, iv) in inner.iter_mut() {
                            prune(iv);
                        }
                    }
                } else {
                    prune(f);
                }
                match f {
                    Value::Null => true,
                    Value::Bool(b) => !*b,
                    Value::Number(n) => n.as_f64() == Some(0.0),
                    Value::String(s) => s.is_empty(),
                    Value::Array(a) => a.is_empty(),
                    Value::Object(o) => o.is_empty(),
                }
            };
            if zero {
                m.remove(&k);
            }
        }
    } else if let Value::Array(a) = v {
        for it in a.iter_mut() {
            prune(it);
        }
    }
}
