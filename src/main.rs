//! argv -> parse -> run -> exit code.
#[macro_use]
mod output;
mod api;
mod auth;
mod cli;
mod commands;
mod config;
mod error;
mod platform;
mod s3;
mod text;
mod transfer;
mod update;

#[cfg(test)]
mod proptests;

fn main() {
    output::interrupt::install();
    output::ignore_sigpipe();
    // A panic is a bug: one line on stderr instead of the default multi-line report.
    if std::env::var_os("RUST_BACKTRACE").is_none() {
        std::panic::set_hook(Box::new(|info| {
            errln!("Error: internal error (this is a bug, please report it): {info}");
        }));
    }
    let code = match cli::parse(std::env::args_os().skip(1)) {
        Ok(inv) => {
            output::log::set_level(inv.globals.log);
            for legacy in [
                "CELLS_CLIENT_TARGET_CLIENT_KEY",
                "CELLS_CLIENT_TARGET_CLIENT_SECRET",
            ] {
                if std::env::var_os(legacy).is_some_and(|v| !v.is_empty()) {
                    output::log::warn(&format!(
                        "{legacy} is not used anymore, double check your configuration"
                    ));
                }
            }
            match commands::run(inv) {
                Ok(()) => 0,
                Err(e) => {
                    errln!("Error: {e}");
                    if e.exit == error::Exit::Interrupted {
                        output::interrupt::exit_interrupted();
                    }
                    e.code()
                }
            }
        }
        Err(e) => {
            errln!("Error: {e}");
            e.code()
        }
    };
    std::process::exit(code);
}
