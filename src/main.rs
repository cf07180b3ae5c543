//! argv -> parse -> run -> exit code.
mod api;
mod auth;
mod cli;
mod commands;
mod config;
mod error;
mod hash;
mod output;
mod s3;
mod transfer;

fn main() {
    output::interrupt::install();
    let code = match cli::parse(std::env::args_os().skip(1)) {
        Ok(inv) => {
            output::log::set_level(inv.globals.log);
            match commands::run(inv) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("Error: {e}");
                    e.code()
                }
            }
        }
        Err(e) => {
            eprintln!("Error: {e}");
            e.code()
        }
    };
    std::process::exit(code);
}
