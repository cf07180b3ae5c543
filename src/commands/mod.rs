//! One file per command; `run` dispatches the parsed invocation.
pub mod clear;
pub mod complete;
pub mod completion;
pub mod config;
pub mod cp;
pub mod doc;
pub mod help;
pub mod idm;
pub mod info;
pub mod jobs;
pub mod ls;
pub mod meta;
pub mod mkdir;
pub mod mv;
pub mod rm;
pub mod scp;
pub mod share;
pub mod storage;
pub mod sync;
pub mod tools;
pub mod update;
pub mod version;

use crate::api::tree::{self, Node};
use crate::api::Client;
use crate::cli::{Command, Invocation};
use crate::error::{Exit, Result};

pub fn run(inv: Invocation) -> Result<()> {
    let Invocation { globals, command } = inv;
    match command {
        Command::Help { path } => help::run(&path),
        Command::Version { format, json } => version::run(format.as_ref(), json),
        Command::Completion { shell } => completion::run(shell),
        Command::Complete {
            words,
            descriptions,
        } => complete::run(&words, descriptions),
        Command::Doc { path, menu } => doc::run(&path, &menu),
        Command::Tools(t) => tools::run(t),
        Command::Clear { force } => clear::run(&globals, force),
        Command::Config(c) => config::run(&globals, c),
        Command::Info { json } => info::run(&globals, json),
        Command::Ls(a) => ls::run(&globals, &a),
        Command::Mkdir(a) => mkdir::run(&globals, &a),
        Command::Rm(a) => rm::run(&globals, &a),
        Command::Cp(a) => cp::run(&globals, &a),
        Command::Mv(a) => mv::run(&globals, &a),
        Command::Share(a) => share::run(&globals, &a),
        Command::Scp(a) => scp::run(&globals, &a),
        Command::Cat(a) => scp::run(&globals, &a),
        Command::Sync(a) => sync::run(&globals, &a),
        Command::Idm(c) => idm::run(&globals, &c),
        Command::Storage(c) => storage::run(&globals, &c),
        Command::Meta(c) => meta::run(&globals, &c),
        Command::Jobs(c) => jobs::run(&globals, &c),
        Command::Update(a) => update::run(&a),
    }
}

/// The nodes an argument names ([`tree::expand`]); when it is not found and
/// holds a `*` that is not a whole last element, says how wildcards work.
pub(crate) fn expand(client: &Client, arg: &str) -> Result<Vec<Node>> {
    tree::expand(client, arg).map_err(|mut e| {
        if e.exit == Exit::NotFound && arg.contains('*') && tree::wildcard_dir(arg).is_none() {
            e.message.push_str(
                " ('*' is a wildcard only as the whole last element, as in 'dir/*'; elsewhere it is part of a name)",
            );
        }
        e
    })
}
