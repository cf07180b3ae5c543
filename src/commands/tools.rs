//! Hidden `cec tools hash` and `cec tools version isvalid|isrelease|isgreater`
//! (also reachable through the deprecated `cec version isvalid|...`).
use crate::cli::ToolsCmd;
use crate::error::{Error, Exit, Result};
use crate::output;
use std::cmp::Ordering;
use std::time::{Duration, Instant};

pub fn run(t: ToolsCmd) -> Result<()> {
    match t {
        ToolsCmd::Hash { file, raw, json } => hash(file, raw, json),
        ToolsCmd::VersionIsValid {
            version,
            quiet,
            deprecated,
        } => {
            if deprecated {
                deprecation(&format!("isvalid {version}"));
            }
            let ok = Version::parse(&version).is_some();
            verdict(ok, quiet, || {
                format!("[{version}] is *not* a valid version")
            })
        }
        ToolsCmd::VersionIsRelease {
            version,
            quiet,
            deprecated,
        } => {
            if deprecated {
                deprecation(&format!("isrelease {version}"));
            }
            let v = Version::parse(&version);
            let ok = v.as_ref().is_some_and(|v| v.pre.is_empty());
            verdict(ok, quiet, || match v {
                None => format!("[{version}] is *not* a valid version"),
                Some(_) => format!("[{version}] is *not* a valid release version"),
            })
        }
        ToolsCmd::VersionIsGreater {
            a,
            b,
            quiet,
            deprecated,
        } => {
            if deprecated {
                deprecation(&format!("isgreater {a} {b}"));
            }
            let (va, vb) = (Version::parse(&a), Version::parse(&b));
            let ok = match (&va, &vb) {
                (Some(x), Some(y)) => x.cmp(y) == Ordering::Greater,
                _ => false,
            };
            verdict(ok, quiet, || {
                if vb.is_none() {
                    format!("Passed version [{b}] is not a valid version")
                } else if va.is_none() {
                    format!("Passed version [{a}] is not a valid version")
                } else {
                    format!("Passed version [{a}] is *not* greater than [{b}]")
                }
            })
        }
    }
}

fn deprecation(example: &str) {
    output::log::warn(&format!(
        "this command is deprecated and will be removed in a future release, rather use: cec tools version {example}"
    ));
}

fn verdict(ok: bool, quiet: bool, msg: impl FnOnce() -> String) -> Result<()> {
    if quiet {
        output::println_out(if ok { "1" } else { "0" });
        return Ok(());
    }
    if ok {
        Ok(())
    } else {
        Err(Error::failure(msg()))
    }
}

/// `raw`: the hash alone; `json`: `{"file","size","hash"}` (not both).
fn hash(file: std::path::PathBuf, raw: bool, json: bool) -> Result<()> {
    let meta = std::fs::metadata(&file).map_err(|e| {
        let exit = if e.kind() == std::io::ErrorKind::NotFound {
            Exit::NotFound
        } else {
            Exit::Failure
        };
        Error::new(
            exit,
            format!("cannot find file to hash {}: {e}", file.display()),
        )
    })?;
    if meta.is_dir() {
        return Err(Error::usage(
            "tools hash",
            format!("{} is a folder, please provide a file", file.display()),
        ));
    }
    let f = std::fs::File::open(&file)
        .map_err(|e| Error::failure(format!("cannot open file to hash {}: {e}", file.display())))?;
    if !raw && !json {
        output::log::info(&format!("Starting hashing for file {}", file.display()));
    }
    let start = Instant::now();
    let h = cells_hash::hash_open_file(f)
        .map_err(|e| Error::failure(format!("cannot read {}: {e}", file.display())))?;
    if raw {
        output::println_out(&h);
    } else if json {
        let v = serde_json::json!({
            "file": file.to_string_lossy(),
            "size": meta.len(),
            "hash": h,
        });
        output::println_out(&v.to_string());
    } else {
        output::println_out(&format!(
            "Final MD5 is '{h}'.\nIt was computed in {} for {}.",
            go_duration(start.elapsed()),
            output::human_size_si(meta.len())
        ));
    }
    Ok(())
}

/// Go-like duration text: `1.5s`, `12.3ms`, `1m2.5s`.
fn go_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1e-3 {
        format!("{:.3}µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.3}ms", s * 1e3)
    } else if s < 60.0 {
        format!("{s:.3}s")
    } else {
        format!("{}m{:.3}s", (s / 60.0) as u64, s % 60.0)
    }
}

/// A version as hashicorp/go-version parses it (docs/compatibility.md §8.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub segments: Vec<i64>,
    pub pre: String,
    pub meta: String,
}

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '~'
}

/// Dot-separated non-empty identifiers of `[0-9A-Za-z-~]`.
fn valid_idents(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(ident_char))
}

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.strip_prefix('v').unwrap_or(s);
        // Numeric segments.
        let seg_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let segs_str = &s[..seg_end];
        let rest = &s[seg_end..];
        // A trailing '.' cannot belong to the segments; it also cannot start a pre-release.
        if segs_str.ends_with('.') {
            return None;
        }
        if segs_str.is_empty() {
            return None;
        }
        let mut segments = Vec::new();
        for p in segs_str.split('.') {
            if p.is_empty() {
                return None;
            }
            segments.push(p.parse::<i64>().ok()?);
        }
        // Pre-release.
        let (pre_part, meta_part) = match rest.find('+') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let pre = if pre_part.is_empty() {
            String::new()
        } else {
            let first = pre_part.chars().next()?;
            let body = if first == '-' {
                let b = &pre_part[1..];
                let c = b.chars().next()?;
                if !(c.is_ascii_alphanumeric() || c == '-' || c == '~') {
                    return None;
                }
                b
            } else if first.is_ascii_alphabetic() || first == '~' {
                pre_part
            } else {
                return None;
            };
            if !valid_idents(body) {
                return None;
            }
            body.to_string()
        };
        let meta = match meta_part {
            None => String::new(),
            Some(m) if valid_idents(m) => m.to_string(),
            Some(_) => return None,
        };
        while segments.len() < 3 {
            segments.push(0);
        }
        Some(Version {
            segments,
            pre,
            meta,
        })
    }

    fn canonical(&self) -> String {
        let mut s = self
            .segments
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(".");
        if !self.pre.is_empty() {
            s.push('-');
            s.push_str(&self.pre);
        }
        if !self.meta.is_empty() {
            s.push('+');
            s.push_str(&self.meta);
        }
        s
    }

    pub fn cmp(&self, o: &Version) -> Ordering {
        if self.canonical() == o.canonical() {
            return Ordering::Equal;
        }
        if self.segments == o.segments {
            return match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => cmp_pre(&self.pre, &o.pre),
            };
        }
        let (a, b) = (&self.segments, &o.segments);
        for i in 0..a.len().max(b.len()) {
            if i >= a.len() {
                return if b[i..].iter().any(|x| *x != 0) {
                    Ordering::Less
                } else {
                    Ordering::Equal
                };
            }
            if i >= b.len() {
                return if a[i..].iter().any(|x| *x != 0) {
                    Ordering::Greater
                } else {
                    Ordering::Equal
                };
            }
            match a[i].cmp(&b[i]) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        Ordering::Equal
    }
}

fn cmp_pre(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let pa: Vec<&str> = a.split('.').collect();
    let pb: Vec<&str> = b.split('.').collect();
    for i in 0..pa.len().max(pb.len()) {
        let x = pa.get(i).copied().unwrap_or("");
        let y = pb.get(i).copied().unwrap_or("");
        match cmp_part(x, y) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    Ordering::Equal
}

fn cmp_part(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let na = a.parse::<u64>().ok();
    let nb = b.parse::<u64>().ok();
    if a.is_empty() {
        return if nb.is_some() {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    if b.is_empty() {
        return if na.is_some() {
            Ordering::Greater
        } else {
            Ordering::Less
        };
    }
    match (na, nb) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|| panic!("{s}"))
    }

    #[test]
    fn parse() {
        for ok in [
            "1",
            "1.2",
            "v1.2.3",
            "1.0rc1",
            "4.1.1-dev.20240425",
            "1.2.3+meta.1",
            "1.2-beta+x",
            "1.0--x",
            "1.0~a",
            "1.2.3.4",
        ] {
            assert!(Version::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "", "v", "a1", "1.", ".1", "1..2", "1.2-", "1.2+", "1.2-a..b", " 1.2", "1.2 ", "1.2_3",
            "1.2-a_b",
        ] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(v("v1.04").canonical(), "1.4.0");
    }

    #[test]
    fn order() {
        let gt = |a: &str, b: &str| v(a).cmp(&v(b)) == Ordering::Greater;
        assert!(gt("4.3.1", "4.1.1-dev.20240425"));
        assert!(gt("1.0.0", "1.0.0-rc1"));
        assert!(gt("1.0.0-rc.1", "1.0.0-rc"));
        assert!(gt("1.0.0-rc", "1.0.0-rc.a"));
        assert!(gt("1.0.0-rc.2", "1.0.0-rc.1"));
        assert!(gt("1.0.0-b", "1.0.0-a"));
        assert!(gt("1.0.0-a", "1.0.0-1"));
        assert!(gt("1.10", "1.9"));
        assert_eq!(v("1.2").cmp(&v("1.2.0.0")), Ordering::Equal);
        assert_eq!(v("1.2+a").cmp(&v("1.2+b")), Ordering::Equal);
        assert!(gt("1.2.0.1", "1.2"));
    }
}
