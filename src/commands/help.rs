//! `cec help [cmd...]`, `cec <cmd> --help`: help texts built from the
//! command and flag definitions (`cli::spec`, `cli::flags`).
use crate::cli::flags::{self, Flag};
use crate::cli::spec::{self, Cmd};
use crate::error::{Error, Result};
use crate::output;

pub fn run(path: &[String]) -> Result<()> {
    let cmd = spec::find(&path.join(" "))
        .ok_or_else(|| Error::usage("help", format!("unknown help topic '{}'", path.join(" "))))?;
    output::print_out(&render(cmd));
    Ok(())
}

fn flag_lines(flags: &[&Flag], show_hidden: bool) -> String {
    let rows: Vec<(String, String)> = flags
        .iter()
        .flat_map(|f| f.rows(show_hidden, true))
        .collect();
    let w = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    // Wrap descriptions to the terminal (or 100 columns), with a hanging indent.
    let total = if output::is_stdout_tty() {
        output::terminal_width().unwrap_or(100)
    } else {
        100
    };
    let room = total.saturating_sub(w + 5).max(30);
    let mut s = String::new();
    for (l, r) in rows {
        let lines = output::width::wrap(&r, Some(room), false);
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                s.push_str(&format!("  {l:w$}   {line}\n"));
            } else {
                s.push_str(&format!("  {:w$}   {line}\n", ""));
            }
        }
    }
    s
}

/// Usage line(s) of a command.
pub fn usage_line(cmd: &Cmd) -> String {
    let mut u = cmd.full_name();
    if cmd.has_children() && cmd.children().any(|c| !c.hidden) {
        if cmd.runnable() {
            u = format!("{u} [COMMAND]");
        } else {
            u = format!("{u} COMMAND");
        }
    }
    if !cmd.args.is_empty() {
        u = format!("{u} {}", cmd.args);
    }
    format!("{u} [flags]")
}

/// The full help text of a command.
pub fn render(cmd: &Cmd) -> String {
    let show_hidden = spec::show_hidden_flags();
    let mut s = String::new();
    s.push_str(cmd.short);
    s.push_str("\n\nUsage:\n  ");
    s.push_str(&usage_line(cmd));
    s.push('\n');
    if !cmd.long.is_empty() {
        s.push('\n');
        s.push_str(cmd.long);
        s.push('\n');
    }
    let children: Vec<&Cmd> = cmd.children().filter(|c| !c.hidden).collect();
    if !children.is_empty() {
        s.push_str("\nCommands:\n");
        let w = children.iter().map(|c| c.name().len()).max().unwrap_or(0);
        for c in &children {
            s.push_str(&format!("  {:w$}   {}\n", c.name(), c.short));
        }
    }
    let mut own: Vec<&Flag> = cmd.flags.to_vec();
    own.push(&flags::HELP);
    if cmd.path.is_empty() {
        own.push(&flags::VERSION);
    }
    s.push_str("\nFlags:\n");
    s.push_str(&flag_lines(&own, show_hidden));
    s.push_str(if cmd.path.is_empty() {
        "\nGlobal flags (accepted by every command, anywhere on the line):\n"
    } else {
        "\nGlobal flags:\n"
    });
    s.push_str(&flag_lines(flags::GLOBAL_FLAGS, show_hidden));
    if !cmd.examples.is_empty() {
        s.push_str("\nExamples:\n");
        for l in cmd.examples.lines() {
            if l.is_empty() {
                s.push('\n');
            } else {
                s.push_str("  ");
                s.push_str(l);
                s.push('\n');
            }
        }
    }
    if !children.is_empty() {
        s.push_str(&format!(
            "\nUse \"{} COMMAND --help\" for more information about a command.\n",
            cmd.full_name()
        ));
    }
    s
}
