//! One builder per command: the parsed, validated flag values and positional
//! arguments become the command's typed arguments. Only rules that involve
//! several flags live here; each flag's own checks are in its definition.

use super::flags::{self, Values};
use super::spec::{self, Cmd, OAUTH_FLAGS};
use super::types::*;
use crate::auth::oauth::OAuthOpts;
use crate::error::{Error, Result};

/// The command line once walked and its values resolved.
pub struct Parsed {
    pub cmd: &'static Cmd,
    pub args: Vec<String>,
    pub v: Values,
}

impl Parsed {
    fn usage(&self, msg: impl Into<String>) -> Error {
        Error::usage(self.cmd.path, msg)
    }

    fn arg(&self, i: usize) -> String {
        self.args.get(i).cloned().unwrap_or_default()
    }

    fn first(&self) -> Option<String> {
        self.args.first().cloned()
    }

    /// The positional arguments as remote paths (see [`remote`]).
    fn remote_args(&self) -> Vec<String> {
        self.args.iter().map(|a| remote(a)).collect()
    }

    /// The hidden legacy spellings (`cec configure ...`, `cec version isvalid`).
    fn deprecated(&self) -> bool {
        self.cmd.path.starts_with("version ") || self.cmd.path.starts_with("configure")
    }

    fn oauth(&self) -> OAuthOpts {
        OAuthOpts {
            id_token: self.v.id_token.clone(),
            port: self.v.port,
            no_pkce: self.v.no_pkce,
            no_browser: self.v.no_browser,
            timeout: self.v.login_timeout,
        }
    }

    fn add(&self, kind: Option<AuthKind>) -> Result<Command> {
        Ok(Command::Config(ConfigCmd::Add(AddArgs {
            kind,
            oauth: self.oauth(),
            deprecated: self.deprecated(),
        })))
    }
}

/// A remote path as typed: scp's spellings `cells://ws/dir` and `cells//ws/dir` are
/// accepted wherever a remote path is, and mean `ws/dir` (no workspace is named `cells:`).
fn remote(path: &str) -> String {
    crate::api::tree::remote_part(path)
        .unwrap_or(path)
        .to_owned()
}

pub fn clear(p: &Parsed) -> Result<Command> {
    Ok(Command::Clear { force: p.v.force })
}

pub fn completion_bash(_: &Parsed) -> Result<Command> {
    Ok(Command::Completion { shell: Shell::Bash })
}

pub fn completion_zsh(_: &Parsed) -> Result<Command> {
    Ok(Command::Completion { shell: Shell::Zsh })
}

pub fn completion_fish(_: &Parsed) -> Result<Command> {
    Ok(Command::Completion { shell: Shell::Fish })
}

/// `config add` (and `configure`) take no OAuth flags, but the method chosen at
/// the prompt may be OAuth: it runs with the flags' defaults.
pub fn config_add(p: &Parsed) -> Result<Command> {
    let mut v = p.v.clone();
    flags::apply_defaults(&mut v, OAUTH_FLAGS);
    let with_defaults = Parsed {
        cmd: p.cmd,
        args: Vec::new(),
        v,
    };
    with_defaults.add(None)
}

pub fn config_add_client_auth(p: &Parsed) -> Result<Command> {
    p.add(Some(AuthKind::ClientAuth))
}

pub fn config_add_oauth(p: &Parsed) -> Result<Command> {
    p.add(Some(AuthKind::OAuth))
}

pub fn config_add_token(p: &Parsed) -> Result<Command> {
    p.add(Some(AuthKind::Token))
}

pub fn config_check_keyring(p: &Parsed) -> Result<Command> {
    Ok(Command::Config(ConfigCmd::CheckKeyring {
        deprecated: p.deprecated(),
    }))
}

pub fn config_ls(p: &Parsed) -> Result<Command> {
    Ok(Command::Config(ConfigCmd::Ls { json: p.v.json }))
}

pub fn config_relog(p: &Parsed) -> Result<Command> {
    Ok(Command::Config(ConfigCmd::Relog {
        id: p.first(),
        oauth: p.oauth(),
    }))
}

pub fn config_rm(p: &Parsed) -> Result<Command> {
    Ok(Command::Config(ConfigCmd::Rm {
        id: p.first(),
        force: p.v.force,
    }))
}

pub fn config_use(p: &Parsed) -> Result<Command> {
    Ok(Command::Config(ConfigCmd::Use { id: p.first() }))
}

fn cp_mv(p: &Parsed) -> CpMvArgs {
    let args = p.remote_args();
    let (target, sources) = args.split_last().expect("at least 2 arguments");
    CpMvArgs {
        sources: sources.to_vec(),
        target: target.clone(),
        force: p.v.force,
        timeout: p.v.job_timeout,
    }
}

pub fn cp(p: &Parsed) -> Result<Command> {
    Ok(Command::Cp(cp_mv(p)))
}

pub fn mv(p: &Parsed) -> Result<Command> {
    Ok(Command::Mv(cp_mv(p)))
}

pub fn doc(p: &Parsed) -> Result<Command> {
    Ok(Command::Doc {
        path: p.v.doc_dir.clone().unwrap_or_default(),
        menu: p.v.menu.clone(),
    })
}

pub fn help(p: &Parsed) -> Result<Command> {
    if spec::find(&p.args.join(" ")).is_none() {
        return Err(p.usage(format!("unknown help topic '{}'", p.args.join(" "))));
    }
    Ok(Command::Help {
        path: p.args.clone(),
    })
}

pub fn idm_list_acls(p: &Parsed) -> Result<Command> {
    if p.v.uuids.is_empty() {
        return Err(p.usage("give at least one node UUID with --uuid/-n"));
    }
    Ok(Command::Idm(IdmCmd::ListAcls {
        nodes: p.v.uuids.clone(),
        delete: p.v.delete,
        force: p.v.force,
        json: p.v.json,
    }))
}

pub fn idm_list_groups(p: &Parsed) -> Result<Command> {
    Ok(Command::Idm(IdmCmd::ListGroups { json: p.v.json }))
}

pub fn idm_list_roles(p: &Parsed) -> Result<Command> {
    Ok(Command::Idm(IdmCmd::ListRoles { json: p.v.json }))
}

pub fn idm_list_users(p: &Parsed) -> Result<Command> {
    Ok(Command::Idm(IdmCmd::ListUsers { json: p.v.json }))
}

pub fn idm_list_workspaces(p: &Parsed) -> Result<Command> {
    Ok(Command::Idm(IdmCmd::ListWorkspaces { json: p.v.json }))
}

pub fn info(p: &Parsed) -> Result<Command> {
    Ok(Command::Info { json: p.v.json })
}

pub fn jobs_get(p: &Parsed) -> Result<Command> {
    if p.v.json && p.v.jobs_get_format.is_some() {
        return Err(p.usage("use either --format or --json, not both"));
    }
    Ok(Command::Jobs(JobsCmd::Get {
        format: p.v.jobs_get_format.unwrap_or_default(),
        filter: p.v.filter.clone(),
        json: p.v.json,
    }))
}

pub fn jobs_delete(p: &Parsed) -> Result<Command> {
    Ok(Command::Jobs(JobsCmd::Delete {
        format: p.v.table_format,
        filter: p.v.filter.clone(),
        job_id: p.v.job_id.clone(),
        force: p.v.force,
        dry_run: p.v.dry_run,
    }))
}

pub fn ls(p: &Parsed) -> Result<Command> {
    let v = &p.v;
    let modes = [v.details, v.raw, v.exists, v.ls_format.is_some(), v.json];
    if modes.iter().filter(|m| **m).count() > 1 {
        return Err(p.usage("use at most one of --details, --raw, --exists, --format and --json"));
    }
    if v.recursive && (v.details || v.exists || v.ls_format.is_some()) {
        return Err(p.usage("--recursive prints full paths (or --json): it does not go with --details, --exists or --format"));
    }
    Ok(Command::Ls(LsArgs {
        path: p.first().map(|a| remote(&a)),
        recursive: v.recursive,
        details: v.details,
        raw: v.raw,
        exists: v.exists,
        format: v.ls_format.clone(),
        json: v.json,
    }))
}

pub fn meta_get(p: &Parsed) -> Result<Command> {
    let path = remote(p.v.meta_path.as_deref().unwrap_or_default());
    if !p.v.all && path.is_empty() {
        return Err(p.usage("missing --path PATH (or --all)"));
    }
    Ok(Command::Meta(MetaCmd::Get {
        path,
        format: p.v.table_format,
        all: p.v.all,
        namespace: p.v.namespace.clone(),
    }))
}

pub fn meta_set(p: &Parsed) -> Result<Command> {
    let v = &p.v;
    let path = remote(v.meta_path.as_deref().unwrap_or_default());
    if path.is_empty() {
        return Err(p.usage("missing --path PATH"));
    }
    let mut values: Vec<(MetaValueKind, String)> = Vec::new();
    if let Some(s) = &v.string_value {
        values.push((MetaValueKind::String, s.clone()));
    }
    if let Some(j) = &v.json_value {
        values.push((MetaValueKind::Json, j.clone()));
    }
    if let Some(n) = v.numeric_value {
        values.push((MetaValueKind::Rate, n.to_string()));
    }
    if let Some(b) = v.boolean_value {
        values.push((MetaValueKind::Bool, b.to_string()));
    }
    if values.len() > 1 {
        return Err(p.usage(
            "give only one of --string-value, --json-value, --numeric-value and --boolean-value",
        ));
    }
    let operation = v.operation.unwrap_or(MetaOp::Update);
    let (value_kind, value) = match values.pop() {
        Some((k, v)) => (k, Some(v)),
        None if operation == MetaOp::Update => {
            return Err(p.usage(
                "update needs a value: --string-value, --json-value, --numeric-value or --boolean-value",
            ))
        }
        None => (MetaValueKind::String, None),
    };
    Ok(Command::Meta(MetaCmd::Set {
        path,
        operation,
        namespace: v.namespace.clone().unwrap_or_default(),
        value,
        value_kind,
    }))
}

pub fn mkdir(p: &Parsed) -> Result<Command> {
    Ok(Command::Mkdir(MkdirArgs {
        paths: p.remote_args(),
    }))
}

pub fn rm(p: &Parsed) -> Result<Command> {
    Ok(Command::Rm(RmArgs {
        paths: p.remote_args(),
        force: p.v.force,
        permanently: p.v.permanently,
    }))
}

pub fn scp(p: &Parsed) -> Result<Command> {
    let (target, sources) = p.args.split_last().expect("two arguments at least");
    Ok(Command::Scp(scp_args(p, sources.to_vec(), target.clone())))
}

pub fn cat(p: &Parsed) -> Result<Command> {
    let path = format!("cells://{}", remote(&p.arg(0)).trim_start_matches('/'));
    Ok(Command::Cat(scp_args(p, vec![path], "-".into())))
}

pub fn sync(p: &Parsed) -> Result<Command> {
    let v = &p.v;
    if v.checksum && v.size_only {
        return Err(p.usage("use at most one of --checksum and --size-only"));
    }
    let compare = match (v.checksum, v.size_only) {
        (true, _) => Compare::Checksum,
        (_, true) => Compare::SizeOnly,
        _ => Compare::SizeTime,
    };
    let mut rules = v.filter_rules.clone();
    rules.sort_by_key(|r| r.0);
    let (target, sources) = p.args.split_last().expect("two arguments");
    Ok(Command::Sync(SyncArgs {
        scp: scp_args(p, sources.to_vec(), target.clone()),
        delete: v.sync_delete,
        compare,
        dry_run: v.dry_run,
        json: v.json,
        rules: rules.into_iter().map(|(_, a, s)| (a, s)).collect(),
        max_age: v.max_age,
    }))
}

fn scp_args(p: &Parsed, sources: Vec<String>, target: String) -> ScpArgs {
    let v = &p.v;
    ScpArgs {
        sources,
        target,
        parents: v.parents,
        bwlimit: v.bwlimit,
        force: v.force,
        no_progress: v.no_progress,
        quiet: v.quiet,
        verbose: v.verbose,
        very_verbose: v.very_verbose,
        part_size_mib: v.part_size_mib,
        parts_concurrency: v.parts_concurrency,
        files_concurrency: v.files_concurrency,
        multipart_threshold_mib: v.multipart_threshold_mib,
        max_parts_number: v.max_parts_number,
        retry_max_attempts: v.retry_max_attempts,
        retry_max_backoff: v.retry_max_backoff,
        skip_md5: v.skip_md5,
        follow_links: v.follow_links,
        fail_fast: v.fail_fast,
    }
}

/// The link password: at most one of `--password`, `--password-file` and
/// `--ask-password`; `CEC_LINK_PASSWORD` when none is given.
pub fn share(p: &Parsed) -> Result<Command> {
    let v = &p.v;
    let from_env = matches!(v.link_password, Some(LinkPassword::Env(_)));
    let mut given: Vec<LinkPassword> = Vec::new();
    if let Some(pw) = v.link_password.clone().filter(|_| !from_env) {
        given.push(pw);
    }
    if let Some(f) = &v.password_file {
        given.push(LinkPassword::File(f.clone()));
    }
    if v.ask_password {
        given.push(LinkPassword::Prompt);
    }
    if given.len() > 1 {
        return Err(p.usage("give only one of --password, --password-file and --ask-password"));
    }
    let password = given.pop().or_else(|| v.link_password.clone());
    Ok(Command::Share(ShareArgs {
        path: remote(&p.arg(0)),
        password,
        expire_days: v.expire_days,
        max_downloads: v.max_downloads,
        json: v.json,
    }))
}

pub fn storage_list_datasources(p: &Parsed) -> Result<Command> {
    if p.v.raw && p.v.json {
        return Err(p.usage("use either --raw or --json, not both"));
    }
    Ok(Command::Storage(StorageCmd::ListDatasources {
        raw: p.v.raw,
        json: p.v.json,
    }))
}

pub fn storage_resync_ds(p: &Parsed) -> Result<Command> {
    Ok(Command::Storage(StorageCmd::ResyncDs {
        name: p.arg(0),
        timeout: p.v.job_timeout,
    }))
}

pub fn tools_hash(p: &Parsed) -> Result<Command> {
    if p.v.raw && p.v.json {
        return Err(p.usage("use either --raw or --json, not both"));
    }
    Ok(Command::Tools(ToolsCmd::Hash {
        file: p.v.file.clone().unwrap_or_default(),
        raw: p.v.raw,
        json: p.v.json,
    }))
}

pub fn version_isvalid(p: &Parsed) -> Result<Command> {
    Ok(Command::Tools(ToolsCmd::VersionIsValid {
        version: p.arg(0),
        quiet: p.v.quiet,
        deprecated: p.deprecated(),
    }))
}

pub fn version_isrelease(p: &Parsed) -> Result<Command> {
    Ok(Command::Tools(ToolsCmd::VersionIsRelease {
        version: p.arg(0),
        quiet: p.v.quiet,
        deprecated: p.deprecated(),
    }))
}

pub fn version_isgreater(p: &Parsed) -> Result<Command> {
    Ok(Command::Tools(ToolsCmd::VersionIsGreater {
        a: p.arg(0),
        b: p.arg(1),
        quiet: p.v.quiet,
        deprecated: p.deprecated(),
    }))
}

pub fn update(p: &Parsed) -> Result<Command> {
    Ok(Command::Update(UpdateArgs {
        version: p.v.update_version.clone(),
        dry_run: p.v.dry_run,
        dev: p.v.dev,
        rollback: p.v.rollback,
    }))
}

pub fn version(p: &Parsed) -> Result<Command> {
    if p.v.json && p.v.version_format.is_some() {
        return Err(p.usage("use either --format or --json, not both"));
    }
    Ok(Command::Version {
        format: p.v.version_format.clone(),
        json: p.v.json,
    })
}
