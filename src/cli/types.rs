//! The typed result of parsing the command line: the contract between
//! `cli` (which builds these) and `commands` (which runs them).
//! Global options are already merged with their `CEC_*` / legacy environment
//! variables (precedence: flag > environment > default).
// Shared API: parts are used only by some commands (or later ones).
#![allow(dead_code)]

use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogLevel {
    Debug,
    #[default]
    Info,
    Warn,
    Error,
}

/// Root flags, available on every command.
#[derive(Debug, Clone, Default)]
pub struct GlobalArgs {
    pub log: LogLevel,
    /// `--config DIR` / `CEC_CONFIG`: directory holding config.json (honoured by every command).
    pub config_dir: Option<PathBuf>,
    /// `--url/-u` / `CEC_URL` / `CELLS_CLIENT_TARGET_URL`, trimmed. For connected commands
    /// and `config add/relog` the parser already checked it is an http(s) URL with a host
    /// (`cli::check_url`); normalisation is the consumer's job.
    pub url: Option<String>,
    pub token: Option<String>,
    pub login: Option<String>,
    pub password: Option<String>,
    pub skip_verify: bool,
    pub skip_keyring: bool,
    pub no_cache: bool,
}

#[derive(Debug, Clone)]
pub struct Invocation {
    pub globals: GlobalArgs,
    pub command: Command,
}

#[derive(Debug, Clone)]
pub enum Command {
    /// `cec`, `cec help [cmd...]`, `cec <cmd> --help`: print help for that command path.
    Help {
        path: Vec<String>,
    },
    /// `cec --version` and `cec version [-f TPL]`.
    Version {
        format: Option<String>,
    },
    Clear {
        force: bool,
    },
    Completion {
        shell: Shell,
    },
    Config(ConfigCmd),
    Info,
    Ls(LsArgs),
    Mkdir(MkdirArgs),
    Rm(RmArgs),
    Cp(CpMvArgs),
    Mv(CpMvArgs),
    Share(ShareArgs),
    Scp(ScpArgs),
    Idm(IdmCmd),
    Storage(StorageCmd),
    Meta(MetaCmd),
    Jobs(JobsCmd),
    Update(UpdateArgs),
    Doc {
        path: PathBuf,
        menu: String,
    },
    Tools(ToolsCmd),
}

impl Command {
    /// Offline commands never set up a server connection (decided from the
    /// parsed command, never from argv positions).
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            Command::Help { .. }
                | Command::Version { .. }
                | Command::Clear { .. }
                | Command::Completion { .. }
                | Command::Config(_)
                | Command::Update(_)
                | Command::Doc { .. }
                | Command::Tools(_)
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    OAuth,
    Token,
    ClientAuth,
}

#[derive(Debug, Clone)]
pub enum ConfigCmd {
    /// `config add` (chooser, `kind` None) or `config add oauth|token|client-auth`;
    /// `configure [client-auth|token]` maps here too (with `deprecated` set).
    Add(AddArgs),
    Ls,
    /// `config use [ID]`: interactive chooser when `id` is None.
    Use {
        id: Option<String>,
    },
    /// `config rm [ID] [-f]`.
    Rm {
        id: Option<String>,
        force: bool,
    },
    /// `config relog [ID]`.
    Relog {
        id: Option<String>,
        oauth: OAuthOpts,
    },
    CheckKeyring {
        deprecated: bool,
    },
}

/// Filled by the parser for every `config add*`/`configure*`/`config relog`, with the
/// defaults applied (`port` 3000, `timeout_secs` 300); `port` is never 0.
#[derive(Debug, Clone, Default)]
pub struct OAuthOpts {
    /// `--id-token` (and hidden legacy `--id_token`): store this token, no flow.
    pub id_token: Option<String>,
    /// `--port`: loopback callback port (default 3000).
    pub port: u16,
    /// `--no-pkce`: for servers that reject PKCE.
    pub no_pkce: bool,
    /// `--no-browser`: print the URL and use the copy/paste (oob) flow.
    pub no_browser: bool,
    /// `--timeout SECS` for the browser flow (default 300).
    pub timeout_secs: u64,
}

#[derive(Debug, Clone)]
pub struct AddArgs {
    pub kind: Option<AuthKind>,
    pub oauth: OAuthOpts,
    /// Set for the hidden legacy `configure` spelling: print the deprecation notice first.
    pub deprecated: bool,
}

#[derive(Debug, Clone, Default)]
pub struct LsArgs {
    pub path: Option<String>,
    pub details: bool,
    pub raw: bool,
    pub exists: bool,
    pub format: Option<String>,
    pub json: bool,
}

#[derive(Debug, Clone, Default)]
pub struct MkdirArgs {
    pub paths: Vec<String>,
    pub parents: bool,
}

#[derive(Debug, Clone, Default)]
pub struct RmArgs {
    pub paths: Vec<String>,
    pub force: bool,
    pub permanently: bool,
}

#[derive(Debug, Clone, Default)]
/// `sources` has at least one entry; `timeout_secs` is None or >= 1.
pub struct CpMvArgs {
    pub sources: Vec<String>,
    pub target: String,
    pub force: bool,
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct ShareArgs {
    pub path: String,
    /// `--password` (or `--link-password`; distinct from the global `--password`).
    pub password: Option<String>,
    /// Expiry in days (>= 1 when set; `max_downloads` too).
    pub expire_days: Option<u32>,
    pub max_downloads: Option<u32>,
}

/// `scp` flags; all are bound to `CEC_*` variables (legacy underscore spellings too).
/// The parser guarantees: `part_size_mib` is a multiple of 10 in 10..=5120,
/// `parts_concurrency` and `files_concurrency` in 1..=64, `max_parts_number` in
/// 1..=10000, `retry_max_attempts` in 0..=100, and `retry_max_backoff` parses with
/// `cli::parse_duration`. `--multipart-debug-flags` is validated and otherwise ignored
/// (use `very_verbose`). `-w` wins over `-v`; both imply `no_progress`.
#[derive(Debug, Clone)]
pub struct ScpArgs {
    pub source: String,
    pub target: String,
    pub force: bool,
    pub no_progress: bool,
    pub quiet: bool,
    pub verbose: bool,
    pub very_verbose: bool,
    /// MiB, multiple of 10.
    pub part_size_mib: u64,
    pub parts_concurrency: usize,
    pub files_concurrency: usize,
    /// MiB.
    pub multipart_threshold_mib: u64,
    pub max_parts_number: u64,
    pub retry_max_attempts: u32,
    /// Duration text as given, e.g. "3s".
    pub retry_max_backoff: String,
    pub skip_md5: bool,
    pub follow_links: bool,
    pub fail_fast: bool,
}

impl Default for ScpArgs {
    fn default() -> Self {
        ScpArgs {
            source: String::new(),
            target: String::new(),
            force: false,
            no_progress: false,
            quiet: false,
            verbose: false,
            very_verbose: false,
            part_size_mib: 50,
            parts_concurrency: 3,
            files_concurrency: 3,
            multipart_threshold_mib: 100,
            max_parts_number: 5000,
            retry_max_attempts: 3,
            retry_max_backoff: "3s".into(),
            skip_md5: false,
            follow_links: false,
            fail_fast: false,
        }
    }
}

#[derive(Debug, Clone)]
#[allow(clippy::enum_variant_names)]
pub enum IdmCmd {
    ListUsers,
    ListGroups,
    ListRoles,
    ListWorkspaces,
    ListAcls { nodes: Vec<String>, delete: bool },
}

#[derive(Debug, Clone)]
pub enum StorageCmd {
    ListDatasources { raw: bool },
    ResyncDs { name: String },
}

#[derive(Debug, Clone)]
pub enum MetaCmd {
    Get {
        path: String,
        format: String,
        all: bool,
        namespace: Option<String>,
    },
    Set {
        path: String,
        operation: String,
        namespace: String,
        value: Option<String>,
        value_kind: MetaValueKind,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaValueKind {
    String,
    Json,
    Rate,
    Bool,
}

#[derive(Debug, Clone)]
pub enum JobsCmd {
    Get {
        format: Option<String>,
        filter: Option<String>,
    },
    Delete {
        format: Option<String>,
        filter: Option<String>,
        job_id: Option<String>,
        force: bool,
        dry_run: bool,
    },
}

#[derive(Debug, Clone, Default)]
pub struct UpdateArgs {
    pub version: Option<String>,
    pub dry_run: bool,
    pub dev: bool,
    pub rollback: bool,
}

#[derive(Debug, Clone)]
pub enum ToolsCmd {
    /// `tools hash -f FILE [-r]` (the parser guarantees `file` is set).
    Hash { file: Option<PathBuf>, raw: bool },
    /// `deprecated`: called through the hidden `cec version isvalid` spelling.
    VersionIsValid {
        version: String,
        quiet: bool,
        deprecated: bool,
    },
    VersionIsRelease {
        version: String,
        quiet: bool,
        deprecated: bool,
    },
    VersionIsGreater {
        a: String,
        b: String,
        quiet: bool,
        deprecated: bool,
    },
}
