//! `cec completion bash|zsh`: scripts generated from the command and flag
//! definitions (`cli::spec`, `cli::flags`). Remote paths complete through
//! `cec ls --raw DIR` (ls, rm, cp, mv, mkdir, share, meta -p) and
//! `cells//`-prefixed words for scp.
use crate::cli::flags::{self, Complete, Flag};
use crate::cli::spec::{self, Cmd};
use crate::cli::Shell;
use crate::error::Result;
use crate::output;

pub fn run(shell: Shell) -> Result<()> {
    output::print_out(&match shell {
        Shell::Bash => bash(),
        Shell::Zsh => zsh(),
    });
    Ok(())
}

fn all_flags(c: &Cmd) -> Vec<&'static Flag> {
    c.all_flags().chain([&flags::HELP]).collect()
}

fn kind(c: Complete) -> &'static str {
    match c {
        Complete::Nothing => "none",
        Complete::Files => "files",
        Complete::Dirs => "dirs",
        Complete::Remote => "remote",
        Complete::Scp => "scp",
    }
}

/// What the value of a flag completes to: its choices, else its kind.
pub fn value_kind(f: &Flag) -> String {
    match f.words().as_slice() {
        [] => kind(f.complete).to_string(),
        w => format!("words:{}", w.join(" ")),
    }
}

/// The names offered for a flag: `--long`, `-s`, and the aliases shown in help.
pub fn offered(f: &Flag) -> Vec<String> {
    if f.hidden {
        return Vec::new();
    }
    let mut v = vec![format!("--{}", f.long)];
    v.extend(f.short.map(|s| format!("-{s}")));
    v.extend(
        f.aliases
            .iter()
            .filter(|a| a.shown)
            .map(|a| format!("--{}", a.name)),
    );
    v
}

/// Shell functions shared by the bash and zsh scripts (POSIX `case` syntax).
fn tables() -> String {
    let mut subs = String::from("_cec_subs() {\n  case \"$1\" in\n");
    let mut flags = String::from("_cec_flags() {\n  case \"$1\" in\n");
    let mut vals = String::from("_cec_flagkind() {\n  case \"$1|$2\" in\n");
    let mut args = String::from("_cec_argkind() {\n  case \"$1\" in\n");
    for c in spec::COMMANDS {
        let visible: Vec<&str> = c
            .children()
            .filter(|k| !k.hidden)
            .map(|k| k.name())
            .collect();
        let all: Vec<&str> = c.children().map(|k| k.name()).collect();
        if !all.is_empty() {
            // Visible ones are offered; hidden ones are still recognised while walking.
            subs.push_str(&format!(
                "    \"{}\") echo \"{}\";;\n",
                c.path,
                visible.join(" ")
            ));
            subs.push_str(&format!(
                "    \"{}|all\") echo \"{}\";;\n",
                c.path,
                all.join(" ")
            ));
        }
        let fl = all_flags(c);
        let names: Vec<String> = fl.iter().flat_map(|f| offered(f)).collect();
        flags.push_str(&format!(
            "    \"{}\") echo \"{}\";;\n",
            c.path,
            names.join(" ")
        ));
        // Every spelling, hidden ones too: the walk must skip their values.
        for f in fl.iter().filter(|f| !f.is_switch()) {
            vals.push_str(&format!("    \"{}|--{}\"", c.path, f.long));
            for a in f.aliases {
                vals.push_str(&format!("|\"{}|--{}\"", c.path, a.name));
            }
            if let Some(s) = f.short {
                vals.push_str(&format!("|\"{}|-{s}\"", c.path));
            }
            vals.push_str(&format!(") echo \"{}\";;\n", value_kind(f)));
        }
        if c.complete != Complete::Nothing {
            args.push_str(&format!(
                "    \"{}\") echo \"{}\";;\n",
                c.path,
                kind(c.complete)
            ));
        }
    }
    subs.push_str("    *) echo \"\";;\n  esac\n}\n");
    flags.push_str("    *) echo \"\";;\n  esac\n}\n");
    vals.push_str("    *) echo \"\";;\n  esac\n}\n");
    args.push_str("    *) echo none;;\n  esac\n}\n");
    format!("{subs}{flags}{vals}{args}")
}

/// Walk the words before the cursor: sets `_cec_cmd` (command path) and `_cec_nargs`.
const WALK: &str = r#"
_cec_walk() {
  # usage: _cec_walk WORD... (the words after "cec", before the current one)
  _cec_cmd=""; _cec_nargs=0
  local w skip=0 ddash=0
  for w in "$@"; do
    if [ $skip = 1 ]; then skip=0; continue; fi
    if [ $ddash = 0 ]; then
      case "$w" in
        --) ddash=1; continue;;
        --*=*) continue;;
        -*) if [ -n "$(_cec_flagkind "$_cec_cmd" "$w")" ]; then skip=1; fi; continue;;
      esac
    fi
    if [ $_cec_nargs = 0 ] && [ $ddash = 0 ]; then
      case " $(_cec_subs "$_cec_cmd|all") " in
        *" $w "*) _cec_cmd="${_cec_cmd:+$_cec_cmd }$w"; continue;;
      esac
    fi
    _cec_nargs=$((_cec_nargs + 1))
  done
}

_cec_remote_dir() {
  # Folder to list for the partial remote path $1.
  local word="$1" dir
  case "$word" in
    */) if [ ${#word} -gt 2 ]; then dir="$word"; else dir="$(dirname -- "$word")"; fi;;
    *) dir="$(dirname -- "$word")";;
  esac
  if [ -z "$dir" ] || [ "$dir" = "." ]; then dir="/"; fi
  printf '%s\n' "$dir"
}
"#;

pub fn bash() -> String {
    let mut s = String::from(
        "# bash completion for cec (Cells Client), generated by 'cec completion bash'.\n\
         # Install: source <(cec completion bash)\n",
    );
    s.push_str(&tables());
    s.push_str(WALK);
    s.push_str(
        r#"
__cec_remote() {
  # $1 = current word, $2 = prefix to strip and re-add (scp: cells//)
  local cur="$1" pre="$2" word dir line
  word="${cur#"$pre"}"
  dir="$(_cec_remote_dir "$word")"
  local IFS=$'\n'
  for line in $(command cec ls --raw -- "$dir" 2>/dev/null); do
    case "$line" in
      "$word"*) COMPREPLY+=("$pre$line");;
    esac
  done
  compopt -o nospace 2>/dev/null
}

_cec() {
  local cur prev
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev=""
  [ "$COMP_CWORD" -gt 1 ] && prev="${COMP_WORDS[COMP_CWORD-1]}"
  _cec_walk "${COMP_WORDS[@]:1:COMP_CWORD-1}"
  local cmd="$_cec_cmd" k
  if [ -n "$prev" ]; then
    case "$prev" in
      -*) k="$(_cec_flagkind "$cmd" "$prev")"
        if [ -n "$k" ]; then
          case "$k" in
            files) compopt -o default 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"));;
            dirs) compopt -o dirnames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur"));;
            remote) __cec_remote "$cur" "";;
            words:*) COMPREPLY=($(compgen -W "${k#words:}" -- "$cur"));;
          esac
          return 0
        fi;;
    esac
  fi
  case "$cur" in
    -*) COMPREPLY=($(compgen -W "$(_cec_flags "$cmd")" -- "$cur")); return 0;;
  esac
  local subs
  subs="$(_cec_subs "$cmd")"
  if [ -n "$subs" ] && [ "$_cec_nargs" = 0 ]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  fi
  case "$(_cec_argkind "$cmd")" in
    remote) __cec_remote "$cur" "";;
    scp)
      case "$cur" in
        cells//*) __cec_remote "$cur" "cells//";;
        *) compopt -o default 2>/dev/null
           COMPREPLY+=($(compgen -f -- "$cur"))
           case "cells//" in "$cur"*) COMPREPLY+=("cells//");; esac;;
      esac;;
    files) compopt -o default 2>/dev/null; COMPREPLY+=($(compgen -f -- "$cur"));;
  esac
  return 0
}
complete -F _cec cec
"#,
    );
    s
}

pub fn zsh() -> String {
    let mut s = String::from(
        "#compdef cec\n\
         # zsh completion for cec (Cells Client), generated by 'cec completion zsh'.\n\
         # Install: cec completion zsh > \"${fpath[1]}/_cec\" (then restart zsh),\n\
         # or for the current shell: source <(cec completion zsh)\n",
    );
    s.push_str(&tables());
    s.push_str(WALK);
    s.push_str(
        r#"
__cec_remote() {
  # $1 = current word, $2 = prefix (scp: cells//)
  local cur="$1" pre="$2" word dir
  word="${cur#$pre}"
  dir="$(_cec_remote_dir "$word")"
  local -a items
  items=(${(f)"$(command cec ls --raw -- "$dir" 2>/dev/null)"})
  compadd -S '' -P "$pre" -- ${(M)items:#${word}*}
}

_cec() {
  local cur="${words[CURRENT]}" prev="${words[CURRENT-1]}"
  _cec_walk "${(@)words[2,CURRENT-1]}"
  local cmd="$_cec_cmd" k
  if [[ $CURRENT -gt 2 && "$prev" == -* ]]; then
    k="$(_cec_flagkind "$cmd" "$prev")"
    if [[ -n "$k" ]]; then
      case "$k" in
        files) _files;;
        dirs) _files -/;;
        remote) __cec_remote "$cur" "";;
        words:*) compadd -- ${=k#words:};;
      esac
      return
    fi
  fi
  if [[ "$cur" == -* ]]; then
    compadd -- ${=$(_cec_flags "$cmd")}
    return
  fi
  local subs="$(_cec_subs "$cmd")"
  if [[ -n "$subs" && $_cec_nargs -eq 0 ]]; then
    compadd -- ${=subs}
  fi
  case "$(_cec_argkind "$cmd")" in
    remote) __cec_remote "$cur" "";;
    scp)
      if [[ "$cur" == cells//* ]]; then __cec_remote "$cur" "cells//"
      else _files; compadd -S '' -- cells//; fi;;
    files) _files;;
  esac
}

if [[ "$funcstack[1]" == "_cec" ]]; then
  _cec "$@"
else
  compdef _cec cec
fi
"#,
    );
    s
}
