//! Strict Semantic Versioning 2.0.0 (semver.org) for `update`: the versions an update
//! server offers and `--version` must be `MAJOR.MINOR.PATCH[-PRE][+BUILD]`, nothing looser
//! (the lenient go-version parsing of `tools version` would accept `v1.04`).
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemVer {
    core: [u64; 3],
    pre: Vec<Ident>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ident {
    Num(u64),
    Alpha(String),
}

/// A numeric identifier: digits, no leading zero.
fn number(s: &str) -> Option<u64> {
    let ok =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    ok.then(|| s.parse().ok()).flatten()
}

fn idents(s: &str) -> Option<Vec<&str>> {
    let v: Vec<&str> = s.split('.').collect();
    let ok = v
        .iter()
        .all(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    ok.then_some(v)
}

impl SemVer {
    pub fn parse(s: &str) -> Option<SemVer> {
        let (rest, build) = match s.split_once('+') {
            Some((r, b)) => (r, Some(b)),
            None => (s, None),
        };
        if let Some(b) = build {
            idents(b)?;
        }
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (rest, None),
        };
        let nums: Vec<u64> = core.split('.').map(number).collect::<Option<_>>()?;
        let core: [u64; 3] = nums.try_into().ok()?;
        let pre = match pre {
            None => Vec::new(),
            Some(p) => idents(p)?
                .into_iter()
                .map(|i| {
                    if i.bytes().all(|b| b.is_ascii_digit()) {
                        number(i).map(Ident::Num)
                    } else {
                        Some(Ident::Alpha(i.to_string()))
                    }
                })
                .collect::<Option<_>>()?,
        };
        Some(SemVer { core, pre })
    }

    /// Precedence (build metadata ignored): a pre-release sorts before its release;
    /// numeric identifiers compare as numbers and before alphanumeric ones.
    pub fn precedence(&self, o: &SemVer) -> Ordering {
        self.core
            .cmp(&o.core)
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => cmp_pre(&self.pre, &o.pre),
            })
    }
}

fn cmp_pre(a: &[Ident], b: &[Ident]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (Ident::Num(x), Ident::Num(y)) => x.cmp(y),
            (Ident::Num(_), Ident::Alpha(_)) => Ordering::Less,
            (Ident::Alpha(_), Ident::Num(_)) => Ordering::Greater,
            (Ident::Alpha(x), Ident::Alpha(y)) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> SemVer {
        SemVer::parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn strict_syntax() {
        for ok in [
            "0.0.0",
            "4.3.2",
            "10.20.30",
            "1.0.0-rc.1",
            "1.0.0-x-y.0+b.001",
            "1.0.0+20240101",
        ] {
            assert!(SemVer::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "4",
            "4.3",
            "v4.3.2",
            "4.3.2.1",
            "04.3.2",
            "4.3.02",
            "4.3.2-",
            "4.3.2-01",
            "4.3.2-a..b",
            "4.3.2+",
            "4.3.2+a_b",
            " 4.3.2",
            "4.3.2 ",
            "4.3.x",
            "-1.0.0",
            "99999999999999999999.0.0",
        ] {
            assert!(SemVer::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn precedence_follows_semver_org() {
        // The example chain of semver.org §11.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
            "10.0.0",
        ];
        for w in chain.windows(2) {
            assert_eq!(
                v(w[0]).precedence(&v(w[1])),
                Ordering::Less,
                "{} < {}",
                w[0],
                w[1]
            );
            assert_eq!(v(w[1]).precedence(&v(w[0])), Ordering::Greater);
        }
        assert_eq!(v("1.0.0+a").precedence(&v("1.0.0+b")), Ordering::Equal);
    }
}
