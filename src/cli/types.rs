//! The typed result of parsing the command line: the contract between
//! `cli` (which builds these) and `commands` (which run them). Values are
//! merged with their `CEC_*` / legacy environment variables (flag >
//! environment > default) and validated: commands do not check them again.

use crate::auth::oauth::OAuthOpts;
use crate::auth::GlobalArgs;
use crate::output::Template;
use std::path::PathBuf;
use std::time::Duration;

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
    /// `cec --version` and `cec version [-f TPL | --json]` (not both).
    Version {
        format: Option<Template>,
        json: bool,
    },
    Clear {
        force: bool,
    },
    Completion {
        shell: Shell,
    },
    /// Hidden `__complete WORD... PARTIAL` (`__completeNoDesc`: `descriptions` false):
    /// cobra's completion protocol (the words are not parsed as flags).
    Complete {
        words: Vec<String>,
        descriptions: bool,
    },
    Config(ConfigCmd),
    Info {
        json: bool,
    },
    Ls(LsArgs),
    Mkdir(MkdirArgs),
    Rm(RmArgs),
    Cp(CpMvArgs),
    Mv(CpMvArgs),
    Share(ShareArgs),
    Scp(ScpArgs),
    Sync(SyncArgs),
    /// `cec cat PATH`: a remote file to standard output.
    Cat(ScpArgs),
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
                | Command::Complete { .. }
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
    Fish,
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
    Ls {
        json: bool,
    },
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
    /// `-R`: the whole tree below `path`.
    pub recursive: bool,
    pub details: bool,
    pub raw: bool,
    pub exists: bool,
    pub format: Option<Template>,
    pub json: bool,
}

#[derive(Debug, Clone, Default)]
pub struct MkdirArgs {
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RmArgs {
    pub paths: Vec<String>,
    pub force: bool,
    pub permanently: bool,
}

/// `sources` has at least one entry.
#[derive(Debug, Clone)]
pub struct CpMvArgs {
    pub sources: Vec<String>,
    pub target: String,
    pub force: bool,
    /// How long to wait for the server job.
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct ShareArgs {
    pub path: String,
    pub password: Option<LinkPassword>,
    /// Expiry in days (>= 1 when set; `max_downloads` too).
    pub expire_days: Option<u32>,
    pub max_downloads: Option<u32>,
    pub json: bool,
}

/// Where the link password of `share` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkPassword {
    /// `--password`/`--link-password` (visible in the process list: warn).
    Argv(String),
    /// `CEC_LINK_PASSWORD`.
    Env(String),
    /// `--password-file FILE`: its first line.
    File(PathBuf),
    /// `--ask-password`: typed on the terminal.
    Prompt,
}

/// `scp` flags (each also read from its `CEC_*` variable), in the ranges of
/// their definitions in `cli::flags`. `-w` wins over `-v`; both imply `no_progress`.
#[derive(Debug, Clone)]
pub struct ScpArgs {
    /// At least one; `-` for standard input.
    pub sources: Vec<String>,
    /// `-` for standard output.
    pub target: String,
    pub force: bool,
    /// `-p`: create a missing target folder.
    pub parents: bool,
    /// Bytes per second, all transfers together.
    pub bwlimit: Option<u64>,
    pub no_progress: bool,
    pub quiet: bool,
    pub verbose: bool,
    pub very_verbose: bool,
    /// MiB, a multiple of 10.
    pub part_size_mib: u64,
    pub parts_concurrency: usize,
    pub files_concurrency: usize,
    /// MiB.
    pub multipart_threshold_mib: u64,
    pub max_parts_number: u64,
    pub retry_max_attempts: u32,
    pub retry_max_backoff: Duration,
    pub skip_md5: bool,
    pub follow_links: bool,
    pub fail_fast: bool,
}

/// How `sync` decides that a file needs sending.
pub use crate::transfer::sync::Compare;

/// `sync SOURCE TARGET`: the transfer flags of scp (`scp.sources` is the one SOURCE).
#[derive(Debug, Clone)]
pub struct SyncArgs {
    pub scp: ScpArgs,
    pub delete: bool,
    pub compare: Compare,
    pub dry_run: bool,
    pub json: bool,
    /// `--include`/`--exclude` rules in command-line order.
    pub rules: Vec<(crate::transfer::filter::Action, String)>,
    pub max_age: Option<Duration>,
}

#[derive(Debug, Clone)]
#[allow(clippy::enum_variant_names)]
/// `json`: `--json` (one object per line instead of the table / rows).
pub enum IdmCmd {
    ListUsers {
        json: bool,
    },
    ListGroups {
        json: bool,
    },
    ListRoles {
        json: bool,
    },
    ListWorkspaces {
        json: bool,
    },
    /// `nodes` is never empty; `force` (`-f/--force`) skips the `--delete` confirmation.
    ListAcls {
        nodes: Vec<String>,
        delete: bool,
        force: bool,
        json: bool,
    },
}

#[derive(Debug, Clone)]
pub enum StorageCmd {
    /// At most one of `raw` and `json`.
    ListDatasources { raw: bool, json: bool },
    /// `--timeout`: how long to wait for the resync job.
    ResyncDs { name: String, timeout: Duration },
}

#[derive(Debug, Clone)]
pub enum MetaCmd {
    Get {
        path: String,
        format: TableFormat,
        all: bool,
        namespace: Option<String>,
    },
    Set {
        path: String,
        operation: MetaOp,
        namespace: String,
        value: Option<String>,
        value_kind: MetaValueKind,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaOp {
    Update,
    Delete,
}

/// `--format table|json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TableFormat {
    #[default]
    Table,
    Json,
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
    /// `--format json` and `--json` are not both given; `filter` is a JSON object.
    Get {
        format: TableFormat,
        filter: Option<String>,
        json: bool,
    },
    Delete {
        format: TableFormat,
        filter: Option<String>,
        job_id: Option<String>,
        force: bool,
        dry_run: bool,
    },
}

#[derive(Debug, Clone)]
pub struct UpdateArgs {
    pub version: Option<String>,
    pub dry_run: bool,
    pub dev: bool,
    pub rollback: bool,
}

#[derive(Debug, Clone)]
pub enum ToolsCmd {
    /// `tools hash -f FILE [-r | --json]` (not both).
    Hash {
        file: PathBuf,
        raw: bool,
        json: bool,
    },
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
