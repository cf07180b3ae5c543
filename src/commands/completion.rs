//! `cec completion bash|zsh|fish`. The bash and zsh scripts are generated from
//! the command and flag definitions (`cli::spec`, `cli::flags`); for remote paths
//! (ls, rm, cp, mv, mkdir, share, meta -p, and `cells//` words of scp) they ask
//! `cec __completeNoDesc` (`commands::complete`), which never prompts and caches.
//! The fish script asks `cec __complete` for everything (cobra's protocol), like the
//! scripts the reference generates.
use crate::cli::flags::{self, Complete, Flag};
use crate::cli::spec::{self, Cmd};
use crate::cli::Shell;
use crate::error::Result;
use crate::output;

pub fn run(shell: Shell) -> Result<()> {
    output::print_out(&match shell {
        Shell::Bash => bash(),
        Shell::Zsh => zsh(),
        Shell::Fish => FISH.to_string(),
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
  # Remote paths from 'cec __completeNoDesc WORDS... CURRENT' (the last line is the
  # directive); scp words keep their cells// prefix.
  local line
  local IFS=$'\n'
  for line in $(command cec __completeNoDesc "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null); do
    case "$line" in
      :*) ;;
      "$cur"*) COMPREPLY+=("$line");;
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
            remote) __cec_remote;;
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
    remote) __cec_remote;;
    scp)
      case "$cur" in
        cells//*) __cec_remote;;
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
  # Remote paths from 'cec __completeNoDesc WORDS... CURRENT' (the last line is the
  # directive); scp words keep their cells// prefix.
  local -a items
  items=(${(f)"$(command cec __completeNoDesc "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" 2>/dev/null)"})
  items=(${items:#:*})
  compadd -S '' -- ${(M)items:#${words[CURRENT]}*}
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
        remote) __cec_remote;;
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
    remote) __cec_remote;;
    scp)
      if [[ "$cur" == cells//* ]]; then __cec_remote
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

/// The fish script: every completion comes from `cec __complete` (cobra's
/// protocol); the directive says when fish completes file or folder names itself.
const FISH: &str = r#"# fish completion for cec (Cells Client), generated by 'cec completion fish'.
# Install: cec completion fish > ~/.config/fish/completions/cec.fish
function __cec_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l cur (commandline -ct)
    set -l out (command cec __complete $words "$cur" 2>/dev/null)
    or return 0
    set -l directive (string replace -r '^:' '' -- $out[-1])
    string match -qr '^[0-9]+$' -- "$directive"
    or return 0
    set -e out[-1]
    # 1: error, 16: folders only, 4: no file names (0: the shell's file names).
    if test (math "bitand($directive, 1)") -ne 0
        return 0
    end
    if test (math "bitand($directive, 16)") -ne 0
        __fish_complete_directories "$cur"
        return 0
    end
    if test (count $out) -eq 0; and test (math "bitand($directive, 4)") -eq 0
        __fish_complete_path "$cur"
        return 0
    end
    printf '%s\n' $out
end
complete -c cec -e
complete -c cec -f -a '(__cec_complete)'
"#;
