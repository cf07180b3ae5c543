//! One file per command; `run` dispatches the parsed invocation.
//! Commands whose module does not exist yet answer `Error::not_available` (exit 1).
//! Add a `mod` line and replace the matching arm when a command lands.
pub mod completion;
pub mod doc;
pub mod help;
pub mod tools;
pub mod version;

use crate::cli::{Command, ConfigCmd, Invocation};
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
        Command::Clear { .. } => Err(Error::not_available("clear")),
        Command::Config(c) => Err(Error::not_available(match c {
            ConfigCmd::Add(_) => "config add",
            ConfigCmd::Ls => "config ls",
            ConfigCmd::Use { .. } => "config use",
            ConfigCmd::Rm { .. } => "config rm",
            ConfigCmd::Relog { .. } => "config relog",
            ConfigCmd::CheckKeyring { .. } => "config check-keyring",
        })),
        Command::Info => Err(Error::not_available("info")),
        Command::Ls(_) => Err(Error::not_available("ls")),
        Command::Mkdir(_) => Err(Error::not_available("mkdir")),
        Command::Rm(_) => Err(Error::not_available("rm")),
        Command::Cp(_) => Err(Error::not_available("cp")),
        Command::Mv(_) => Err(Error::not_available("mv")),
        Command::Share(_) => Err(Error::not_available("share")),
        Command::Scp(_) => Err(Error::not_available("scp")),
        Command::Idm(_) => Err(Error::not_available("idm")),
        Command::Storage(_) => Err(Error::not_available("storage")),
        Command::Meta(_) => Err(Error::not_available("meta")),
        Command::Jobs(_) => Err(Error::not_available("jobs")),
        Command::Update(_) => Err(Error::not_available("update")),
    }
}
