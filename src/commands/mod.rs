//! One file per command; `run` dispatches the parsed invocation.
//! Commands whose module does not exist yet answer `Error::not_available` (exit 1).
//! Add a `mod` line and replace the matching arm when a command lands.
pub mod clear;
pub mod completion;
pub mod config;
pub mod cp;
pub mod doc;
pub mod help;
pub mod info;
pub mod ls;
pub mod mkdir;
pub mod mv;
pub mod rm;
pub mod scp;
pub mod share;
pub mod tools;
pub mod update;
pub mod version;

use crate::cli::{Command, Invocation};
use crate::error::{Error, Result};

pub fn run(inv: Invocation) -> Result<()> {
    let Invocation { globals, command } = inv;
    let _ = &globals;
    match command {
        Command::Help { path } => help::run(&path),
        Command::Version { format } => version::run(format.as_deref()),
        Command::Completion { shell } => completion::run(shell),
        Command::Doc { path, menu } => doc::run(&path, &menu),
        Command::Tools(t) => tools::run(t),
        Command::Clear { force } => clear::run(&globals, force),
        Command::Config(c) => config::run(&globals, c),
        Command::Info => info::run(&globals),
        Command::Ls(a) => ls::run(&globals, &a),
        Command::Mkdir(a) => mkdir::run(&globals, &a),
        Command::Rm(a) => rm::run(&globals, &a),
        Command::Cp(a) => cp::run(&globals, &a),
        Command::Mv(a) => mv::run(&globals, &a),
        Command::Share(a) => share::run(&globals, &a),
        Command::Scp(a) => scp::run(&globals, &a),
        Command::Idm(_) => Err(Error::not_available("idm")),
        Command::Storage(_) => Err(Error::not_available("storage")),
        Command::Meta(_) => Err(Error::not_available("meta")),
        Command::Jobs(_) => Err(Error::not_available("jobs")),
        Command::Update(a) => update::run(&a),
    }
}
