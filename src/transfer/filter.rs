//! `--include` / `--exclude` rules of `cec sync` (docs/sync.md §Filters), and
//! the glob matcher shared with remote source globs of `scp`/`sync`.
//!
//! Globs: `*` is any run of characters except `/`, `**` any run including
//! `/`, `?` one character except `/`, `[abc]`, `[a-z]`, `[!a]`/`[^a]` one
//! character of (not of) a set, `\x` the character `x`. A rule is matched
//! against the path relative to the sync root (`/` separators): with a
//! leading `/` it must match the whole path, without it any tail of whole
//! elements (`*.log` matches `a.log` and `x/y/a.log`). A rule ending in `/`
//! applies to folders only (and so to everything below them); other rules
//! apply to files only. Rules are tried in the order given, the first match
//! decides; a file no rule matches is excluded when some `--include` was
//! given, included otherwise; a folder no folder rule matches is walked.

/// One element of a compiled glob.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(char),
    /// `?`
    One,
    /// `*`
    Star,
    /// `**`
    Any,
    /// `[...]`: ranges, negated.
    Class(Vec<(char, char)>, bool),
}

/// A compiled glob.
#[derive(Debug, Clone, PartialEq)]
pub struct Glob {
    toks: Vec<Tok>,
}

impl Glob {
    /// Compile `pat`; the error says what is wrong (an unclosed `[`).
    pub fn new(pat: &str) -> Result<Glob, String> {
        let cs: Vec<char> = pat.chars().collect();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < cs.len() {
            match cs[i] {
                '*' if cs.get(i + 1) == Some(&'*') => {
                    toks.push(Tok::Any);
                    i += 2;
                    continue;
                }
                '*' => toks.push(Tok::Star),
                '?' => toks.push(Tok::One),
                '\\' => match cs.get(i + 1) {
                    Some(c) => {
                        toks.push(Tok::Lit(*c));
                        i += 1;
                    }
                    None => return Err(format!("'{pat}' ends with a lone '\\'")),
                },
                '[' => {
                    let (tok, next) = class(&cs, i)
                        .ok_or_else(|| format!("'{pat}' has a '[' without its ']'"))?;
                    toks.push(tok);
                    i = next;
                    continue;
                }
                c => toks.push(Tok::Lit(c)),
            }
            i += 1;
        }
        Ok(Glob { toks })
    }

    /// Whether the glob has a wildcard (`*`, `?`, `[`); a glob without one is a plain name.
    pub fn has_wildcard(&self) -> bool {
        self.toks.iter().any(|t| !matches!(t, Tok::Lit(_)))
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        let t: Vec<char> = text.chars().collect();
        // ok[j]: the tokens so far match t[..j] (dynamic programming, O(len × len)).
        let mut ok = vec![false; t.len() + 1];
        ok[0] = true;
        for tok in &self.toks {
            let mut next = vec![false; t.len() + 1];
            for j in 0..=t.len() {
                match tok {
                    Tok::Star | Tok::Any => {
                        // Zero characters, or one more than a match of this token.
                        let extend = j > 0 && next[j - 1] && (*tok == Tok::Any || t[j - 1] != '/');
                        next[j] = ok[j] || extend;
                    }
                    _ => {
                        next[j] = j > 0 && ok[j - 1] && one(tok, t[j - 1]);
                    }
                }
            }
            ok = next;
        }
        ok[t.len()]
    }
}

fn one(tok: &Tok, c: char) -> bool {
    match tok {
        Tok::Lit(l) => *l == c,
        Tok::One => c != '/',
        Tok::Class(ranges, neg) => {
            c != '/' && ranges.iter().any(|(a, b)| (*a..=*b).contains(&c)) != *neg
        }
        Tok::Star | Tok::Any => false,
    }
}

/// Parse `[...]` starting at `cs[i] == '['`: the token and the index after `]`.
fn class(cs: &[char], i: usize) -> Option<(Tok, usize)> {
    let mut j = i + 1;
    let neg = matches!(cs.get(j), Some('!') | Some('^'));
    if neg {
        j += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *cs.get(j)?;
        if c == ']' && !first {
            return Some((Tok::Class(ranges, neg), j + 1));
        }
        first = false;
        if cs.get(j + 1) == Some(&'-') && cs.get(j + 2).is_some_and(|e| *e != ']') {
            ranges.push((c, cs[j + 2]));
            j += 3;
        } else {
            ranges.push((c, c));
            j += 1;
        }
    }
}

/// Include or exclude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Include,
    Exclude,
}

#[derive(Debug, Clone)]
struct Rule {
    action: Action,
    glob: Glob,
    anchored: bool,
    dirs: bool,
}

impl Rule {
    fn matches(&self, rel: &str) -> bool {
        if self.anchored || self.glob.matches(rel) {
            return self.glob.matches(rel);
        }
        // Any tail of whole elements.
        rel.match_indices('/')
            .any(|(i, _)| self.glob.matches(&rel[i + 1..]))
    }
}

/// The rules of one run, in order.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    rules: Vec<Rule>,
    any_include: bool,
}

impl Filter {
    /// Add a rule from `--include`/`--exclude` (in command-line order).
    pub fn add(&mut self, action: Action, pat: &str) -> Result<(), String> {
        let anchored = pat.starts_with('/');
        let dirs = pat.ends_with('/') && pat.len() > 1;
        let body = pat.trim_start_matches('/').trim_end_matches('/');
        if body.is_empty() {
            return Err(format!("'{pat}' matches nothing; give a name or a pattern"));
        }
        let glob = Glob::new(body)?;
        self.any_include |= action == Action::Include && !dirs;
        self.rules.push(Rule {
            action,
            glob,
            anchored,
            dirs,
        });
        Ok(())
    }

    /// Whether every walked folder goes to the destination, empty or not
    /// (no `--include` selects files).
    pub fn keeps_empty_folders(&self) -> bool {
        !self.any_include
    }

    /// Whether the file at `rel` takes part (its folders were walked, so passed).
    pub fn file(&self, rel: &str) -> bool {
        match self.first(rel, false) {
            Some(a) => a == Action::Include,
            None => !self.any_include,
        }
    }

    /// Whether the folder at `rel` is walked (`""`, the root, always is).
    pub fn folder(&self, rel: &str) -> bool {
        rel.is_empty() || self.first(rel, true) != Some(Action::Exclude)
    }

    /// Whether every file of a folder takes part whatever its name: no file
    /// rule can leave one out (a folder can then be handled as a whole).
    pub fn takes_all_files(&self) -> bool {
        self.rules.iter().all(|r| r.dirs)
    }

    fn first(&self, rel: &str, dirs: bool) -> Option<Action> {
        self.rules
            .iter()
            .find(|r| r.dirs == dirs && r.matches(rel))
            .map(|r| r.action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn g(p: &str, t: &str) -> bool {
        Glob::new(p).unwrap().matches(t)
    }

    #[test]
    fn globs() {
        assert!(g("*.txt", "a.txt"));
        assert!(!g("*.txt", "d/a.txt"));
        assert!(g("**.txt", "d/e/a.txt"));
        assert!(g("d/**", "d/e/a"));
        assert!(!g("d/**", "x/d/e"));
        assert!(g("a?c", "abc"));
        assert!(!g("a?c", "a/c"));
        assert!(g("[a-c]x", "bx"));
        assert!(!g("[!a-c]x", "bx"));
        assert!(g("[^a-c]x", "dx"));
        assert!(g("[]]", "]"));
        assert!(g("\\*", "*"));
        assert!(!g("\\*", "a"));
        assert!(g("", ""));
        assert!(!g("a", ""));
        assert!(Glob::new("[ab").is_err());
        assert!(Glob::new("a\\").is_err());
    }

    #[test]
    fn rules_first_match_wins() {
        let mut f = Filter::default();
        f.add(Action::Exclude, "keep/secret.txt").unwrap();
        f.add(Action::Include, "*.txt").unwrap();
        f.add(Action::Exclude, "/tmp/").unwrap();
        assert!(f.file("a.txt"));
        assert!(f.file("x/y/a.txt"));
        assert!(!f.file("keep/secret.txt"));
        assert!(!f.file("a/keep/secret.txt"));
        // Some include was given: what no rule matches is left out.
        assert!(!f.file("a.bin"));
        assert!(!f.folder("tmp"));
        assert!(f.folder("x/tmp"));
        assert!(f.folder(""));
        assert!(!f.takes_all_files());
    }

    #[test]
    fn unanchored_rules_match_whole_tails() {
        let mut f = Filter::default();
        f.add(Action::Exclude, "b.log").unwrap();
        assert!(!f.file("b.log"));
        assert!(!f.file("x/b.log"));
        assert!(f.file("xb.log"));
        assert!(f.file("x/xb.log"));
        let mut d = Filter::default();
        d.add(Action::Exclude, "cache/").unwrap();
        assert!(!d.folder("a/cache"));
        assert!(d.folder("a/mycache"));
        assert!(d.file("cache"));
        assert!(d.takes_all_files());
    }

    #[test]
    fn empty_rules_are_refused() {
        let mut f = Filter::default();
        assert!(f.add(Action::Exclude, "/").is_err());
        assert!(f.add(Action::Exclude, "").is_err());
    }

    /// A reference matcher (plain recursion) to check the DP one against.
    fn slow(p: &[Tok], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some(Tok::Star) => (0..=t.len())
                .take_while(|&k| k == 0 || t[k - 1] != '/')
                .any(|k| slow(&p[1..], &t[k..])),
            Some(Tok::Any) => (0..=t.len()).any(|k| slow(&p[1..], &t[k..])),
            Some(tok) => !t.is_empty() && one(tok, t[0]) && slow(&p[1..], &t[1..]),
        }
    }

    proptest! {
        #[test]
        fn matcher_agrees_with_reference(p in "[ab*?/]{0,8}", t in "[ab/]{0,10}") {
            let glob = Glob::new(&p).unwrap();
            let t: Vec<char> = t.chars().collect();
            let text: String = t.iter().collect();
            prop_assert_eq!(glob.matches(&text), slow(&glob.toks, &t));
        }

        #[test]
        fn literal_patterns_match_only_themselves(s in "[a-z/.]{1,12}", t in "[a-z/.]{1,12}") {
            prop_assert!(g(&s, &s));
            prop_assert_eq!(g(&s, &t), s == t);
        }

        #[test]
        fn star_never_crosses_a_slash(a in "[a-z]{0,5}", b in "[a-z]{0,5}") {
            let text = format!("{a}/{b}");
            prop_assert!(!g("*", &text));
            prop_assert!(g("**", &text));
            prop_assert!(g("*/*", &text));
        }

        #[test]
        fn unanchored_equals_some_tail(name in "[a-c]{1,3}", dirs in proptest::collection::vec("[a-c]{1,3}", 0..4)) {
            let mut rel = dirs.join("/");
            if !rel.is_empty() { rel.push('/'); }
            rel.push_str(&name);
            let mut f = Filter::default();
            f.add(Action::Exclude, &name).unwrap();
            prop_assert!(!f.file(&rel));
            let mut anchored = Filter::default();
            anchored.add(Action::Exclude, &format!("/{name}")).unwrap();
            prop_assert_eq!(anchored.file(&rel), !dirs.is_empty());
        }
    }
}
