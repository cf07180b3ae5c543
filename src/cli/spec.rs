//! The command tree: every command's path, help texts, positional arguments,
//! flags (defined in `cli::flags`) and the builder that turns the parsed
//! values into its typed arguments (`cli::build`). It feeds the parser, the
//! help texts, the completion scripts and `cec doc`.

use super::build::{self, Parsed};
use super::flags::*;
use super::types::Command;
use crate::error::Result;

static NO_FLAGS: &[&Flag] = &[];
static CONFIRM_FLAGS: &[&Flag] = &[&FORCE_CONFIRM];
pub static OAUTH_FLAGS: &[&Flag] = &[
    &ID_TOKEN,
    &OAUTH_PORT,
    &NO_PKCE,
    &NO_BROWSER,
    &OAUTH_TIMEOUT,
];
static RELOG_FLAGS: &[&Flag] = &[
    &RELOG_PORT,
    &RELOG_NO_PKCE,
    &RELOG_NO_BROWSER,
    &OAUTH_TIMEOUT,
];
static CPMV_FLAGS: &[&Flag] = &[&FORCE_REPLACE, &JOB_TIMEOUT];
static DOC_FLAGS: &[&Flag] = &[&DOC_PATH, &MENU];
static IDM_LIST_FLAGS: &[&Flag] = &[&LIST_JSON];
static LIST_ACLS_FLAGS: &[&Flag] = &[&UUID, &DELETE, &FORCE_ACLS, &LIST_JSON];
static JOBS_GET_FLAGS: &[&Flag] = &[&JOBS_GET_FORMAT, &FILTER_OWNER, &LIST_JSON];
static JOBS_DELETE_FLAGS: &[&Flag] = &[
    &JOBS_FORMAT,
    &FILTER_STATUS,
    &JOB_ID,
    &FORCE_SYSTEM,
    &DRY_RUN,
];
static LS_FLAGS: &[&Flag] = &[&DETAILS, &RAW_PATHS, &EXISTS, &LS_FORMAT, &JSON, &RECURSIVE];
static META_GET_FLAGS: &[&Flag] = &[&META_PATH, &META_FORMAT, &ALL, &ONLY_NAMESPACE];
static META_SET_FLAGS: &[&Flag] = &[
    &META_PATH,
    &OPERATION,
    &NAMESPACE,
    &STRING_VALUE,
    &JSON_VALUE,
    &NUMERIC_VALUE,
    &BOOLEAN_VALUE,
];
static MKDIR_FLAGS: &[&Flag] = &[&PARENTS];
static RM_FLAGS: &[&Flag] = &[&FORCE_RM, &PERMANENTLY];
static SCP_FLAGS: &[&Flag] = &[
    &FORCE_SCP,
    &NO_PROGRESS,
    &VERBOSE,
    &VERY_VERBOSE,
    &QUIET_PROGRESS,
    &PART_SIZE,
    &PARTS_CONCURRENCY,
    &FILES_CONCURRENCY,
    &MULTIPART_THRESHOLD,
    &MAX_PARTS_NUMBER,
    &RETRY_MAX_ATTEMPTS,
    &RETRY_MAX_BACKOFF,
    &MULTIPART_DEBUG_FLAGS,
    &SKIP_MD5,
    &FOLLOW_LINKS,
    &FAIL_FAST,
    &PARENTS_SCP,
    &BWLIMIT,
];
static CAT_FLAGS: &[&Flag] = &[&SKIP_MD5, &RETRY_MAX_ATTEMPTS, &RETRY_MAX_BACKOFF, &BWLIMIT];
static SYNC_FLAGS: &[&Flag] = &[
    &DELETE_SYNC,
    &CHECKSUM,
    &SIZE_ONLY,
    &DRY_RUN_SYNC,
    &JSON_SYNC,
    &INCLUDE,
    &EXCLUDE,
    &MAX_AGE,
    &BWLIMIT,
    &PARENTS_SCP,
    &NO_PROGRESS,
    &VERBOSE,
    &VERY_VERBOSE,
    &QUIET_PROGRESS,
    &PART_SIZE,
    &PARTS_CONCURRENCY,
    &FILES_CONCURRENCY,
    &MULTIPART_THRESHOLD,
    &MAX_PARTS_NUMBER,
    &RETRY_MAX_ATTEMPTS,
    &RETRY_MAX_BACKOFF,
    &SKIP_MD5,
    &FOLLOW_LINKS,
    &FAIL_FAST,
];
static SHARE_FLAGS: &[&Flag] = &[
    &LINK_PASSWORD,
    &PASSWORD_FILE,
    &ASK_PASSWORD,
    &EXPIRE_DAYS,
    &MAX_DOWNLOADS,
    &JSON_OBJECT,
];
static LIST_DS_FLAGS: &[&Flag] = &[&RAW_NAMES, &LIST_JSON];
static RESYNC_FLAGS: &[&Flag] = &[&RESYNC_TIMEOUT];
static HASH_FLAGS: &[&Flag] = &[&FILE, &RAW_HASH, &JSON_OBJECT];
static JSON_FLAGS: &[&Flag] = &[&JSON_OBJECT];
static CONFIG_LS_FLAGS: &[&Flag] = &[&LIST_JSON];
static QUIET_FLAGS: &[&Flag] = &[&QUIET_VERDICT];
static UPDATE_FLAGS: &[&Flag] = &[&UPDATE_VERSION, &DRY_RUN_UPDATE, &DEV, &ROLLBACK];
static VERSION_FLAGS: &[&Flag] = &[&VERSION_FORMAT, &JSON_OBJECT];

/// Turns the parsed values into the command's typed arguments.
pub type Build = fn(&Parsed) -> Result<Command>;

/// One command of the tree.
#[derive(Clone, Copy)]
pub struct Cmd {
    /// Space-separated path without the program name: "" for the root, "config add oauth".
    pub path: &'static str,
    pub short: &'static str,
    /// Synopsis of the positional arguments, e.g. "SOURCE... TARGET".
    pub args: &'static str,
    pub long: &'static str,
    pub examples: &'static str,
    pub flags: &'static [&'static Flag],
    pub hidden: bool,
    /// A pure group called without a sub-command: usage error instead of help.
    pub needs_sub: bool,
    pub min_args: usize,
    /// `usize::MAX` = unlimited.
    pub max_args: usize,
    pub complete: Complete,
    /// `None` for pure groups.
    pub build: Option<Build>,
}

const fn cmd(path: &'static str, short: &'static str) -> Cmd {
    Cmd {
        path,
        short,
        args: "",
        long: "",
        examples: "",
        flags: NO_FLAGS,
        hidden: false,
        needs_sub: false,
        min_args: 0,
        max_args: 0,
        complete: Complete::Nothing,
        build: None,
    }
}

/// A group of commands that does nothing by itself (no builder).
const fn group(path: &'static str, short: &'static str) -> Cmd {
    cmd(path, short)
}

impl Cmd {
    const fn args(mut self, synopsis: &'static str, min: usize, max: usize) -> Self {
        self.args = synopsis;
        self.min_args = min;
        self.max_args = max;
        self
    }
    const fn long(mut self, l: &'static str) -> Self {
        self.long = l;
        self
    }
    const fn ex(mut self, e: &'static str) -> Self {
        self.examples = e;
        self
    }
    const fn build(mut self, b: Build) -> Self {
        self.build = Some(b);
        self
    }
    const fn flags(mut self, f: &'static [&'static Flag]) -> Self {
        self.flags = f;
        self
    }
    const fn hide(mut self) -> Self {
        self.hidden = true;
        self
    }
    const fn needs_sub(mut self) -> Self {
        self.needs_sub = true;
        self
    }
    const fn comp(mut self, c: Complete) -> Self {
        self.complete = c;
        self
    }

    /// Can run without a sub-command (false for pure groups).
    pub fn runnable(&self) -> bool {
        self.build.is_some()
    }

    /// The last word of the path ("oauth" for "config add oauth", "cec" for the root).
    pub fn name(&self) -> &'static str {
        self.path
            .rsplit(' ')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("cec")
    }

    /// "cec config add oauth".
    pub fn full_name(&self) -> String {
        if self.path.is_empty() {
            "cec".into()
        } else {
            format!("cec {}", self.path)
        }
    }

    /// Direct sub-commands (hidden ones included).
    pub fn children(&self) -> impl Iterator<Item = &'static Cmd> + '_ {
        let depth = if self.path.is_empty() {
            0
        } else {
            self.path.split(' ').count()
        };
        COMMANDS.iter().filter(move |c| {
            !c.path.is_empty()
                && c.path.split(' ').count() == depth + 1
                && (self.path.is_empty() || c.path.starts_with(&format!("{} ", self.path)))
        })
    }

    pub fn child(&self, name: &str) -> Option<&'static Cmd> {
        self.children().find(|c| c.name() == name)
    }

    pub fn has_children(&self) -> bool {
        self.children().next().is_some()
    }

    /// The command's own flags, then the global flags.
    pub fn all_flags(&self) -> impl Iterator<Item = &'static Flag> {
        self.flags.iter().chain(GLOBAL_FLAGS.iter()).copied()
    }

    /// Find a flag by long name or alias (own flags first, then global flags).
    pub fn find_long(&self, name: &str) -> Option<&'static Flag> {
        self.all_flags().find(|f| f.named(name))
    }

    pub fn find_short(&self, c: char) -> Option<&'static Flag> {
        self.all_flags().find(|f| f.short == Some(c))
    }
}

/// The root command.
pub fn root() -> &'static Cmd {
    &COMMANDS[0]
}

/// Look a command up by its path ("config add oauth").
pub fn find(path: &str) -> Option<&'static Cmd> {
    COMMANDS.iter().find(|c| c.path == path)
}

/// Whether hidden flags are displayed (`CEC_DISPLAY_HIDDEN_FLAGS` non-empty).
pub fn show_hidden_flags() -> bool {
    std::env::var_os("CEC_DISPLAY_HIDDEN_FLAGS").is_some_and(|v| !v.is_empty())
}

pub static ROOT_LONG: &str = "\
cec is a command-line client for Pydio Cells servers (v4 and later): list, create, copy, move,
delete and share remote files, and transfer file contents with scp.

ACCOUNTS
  Set up an account once with 'cec config add' (OAuth2 login in a browser, a Personal Access
  Token, or login/password), then every command uses the active account ('cec config ls',
  'cec config use ID'). Accounts are stored in config.json in ~/.config/pydio/cells-client/
  ($XDG_CONFIG_HOME/pydio/cells-client/ when XDG_CONFIG_HOME is set); --config DIR uses
  DIR/config.json instead. Secrets go to the OS keyring when one answers, otherwise (or with
  --skip-keyring) into config.json, which is always written with mode 0600.

  Without a stored account, give the server and the credentials with flags or environment
  variables: --url and --token (Personal Access Token), or --url, --login and --password.

ENVIRONMENT
  Every global flag has a CEC_ variable (upper case, '-' becomes '_'): CEC_URL, CEC_TOKEN,
  CEC_LOGIN, CEC_PASSWORD, CEC_CONFIG, CEC_LOG, CEC_SKIP_VERIFY, CEC_SKIP_KEYRING, CEC_NO_CACHE;
  so do the scp flags (CEC_FORCE, CEC_PART_SIZE, CEC_FILES_CONCURRENCY, ...). A flag wins over
  its variable. Booleans: 1, t, true (any case) mean true, anything else false.
  The legacy CELLS_CLIENT_TARGET_URL, _USER_LOGIN, _USER_PWD and _SKIP_VERIFY variables are used
  when the CEC_ variable is not set. HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured.
  CEC_DISPLAY_HIDDEN_FLAGS=1 also lists hidden legacy flags in help.

EXIT CODES
  0    success
  1    failure (network, server or local error)
  2    usage error (unknown flag or command, missing or extra argument, bad value)
  3    authentication or permission failure (no account, expired credentials, 401/403)
  4    not found
  5    conflict (the target exists and --force was not given)
  6    partial failure (some items of a multi-item operation failed)
  130  interrupted (Ctrl-C; cec ends by SIGINT after cleaning up, so a calling loop stops)

Results go to stdout; messages, warnings and logs go to stderr.";

/// The whole command tree, root first. Hidden commands work but are not listed.
pub static COMMANDS: &[Cmd] = &[
    group("", "Connect to a Pydio Cells server using the command line")
        .long(ROOT_LONG)
        .ex("# Set up an account (interactive), then list the workspaces
cec config add
cec ls

# Use a Personal Access Token without storing anything
export CEC_URL=https://cells.example.com CEC_TOKEN=<token>
cec ls common-files

# Upload a folder, download a file
cec scp ./photos cells://common-files/
cec scp cells://common-files/report.pdf ."),
    cmd("clear", "Clear all configuration")
        .build(build::clear)
        .long("Deletes config.json and the secrets of every account from the keyring.\nAsks for confirmation unless --force is given; without a terminal, --force is required.")
        .ex("cec clear\ncec clear --force")
        .flags(CONFIRM_FLAGS),
    group("completion", "Add auto-completion helper to Cells Client")
        .needs_sub()
        .long("Prints a shell completion script on stdout (bash, zsh or fish). The scripts complete
commands, flags, flag values, local paths and remote paths: workspaces, folders and files
(after 'cells//' for scp). Remote paths are listed by the hidden 'cec __complete', which
answers from a cache of a few seconds ($XDG_RUNTIME_DIR/cec, mode 0600) and never asks
anything: no browser, no keyring unlock prompt, no token refresh (run any cec command when
the login needs one). Completion scripts generated by the reference client (cobra) work
with cec too: they call the same 'cec __complete'.")
        .ex("# Current shell only
source <(cec completion bash)

# Install for every session (Linux, macOS with Homebrew)
cec completion bash | sudo tee /etc/bash_completion.d/cec
cec completion bash > /usr/local/etc/bash_completion.d/cec

# zsh: put _cec in a folder of your $fpath
cec completion zsh > \"${fpath[1]}/_cec\"

# fish
cec completion fish > ~/.config/fish/completions/cec.fish"),
    cmd("completion bash", "Generate the bash completion script")
        .build(build::completion_bash)
        .ex("source <(cec completion bash)"),
    cmd("completion fish", "Generate the fish completion script")
        .build(build::completion_fish)
        .ex("cec completion fish > ~/.config/fish/completions/cec.fish\ncec completion fish | source"),
    cmd("completion zsh", "Generate the zsh completion script")
        .build(build::completion_zsh)
        .ex("cec completion zsh > \"${fpath[1]}/_cec\""),
    group("config", "Manage authentication profiles")
        .long("Add, list, select, re-authenticate and remove the accounts (server + user) cec connects with.\nThe account marked active in 'cec config ls' is used by every command.")
        .ex("cec config add\ncec config ls\ncec config use admin@cells.example.com\ncec config rm alice@cells.example.com"),
    cmd("config add", "Configure a new connection to a running server and persist credentials locally")
        .build(build::config_add)
        .long("Without a sub-command, asks which authentication method to use:
  oauth        OAuth2 login in a browser (default, most secure)
  token        Personal Access Token generated on the server
  client-auth  login and password (less secure)
Secrets are stored in the OS keyring; without a keyring (or with --skip-keyring) they are
stored in clear text in config.json (mode 0600). Each sub-command can run non-interactively
with flags or CEC_ variables (see their help).")
        .ex("cec config add\ncec config add oauth --url https://cells.example.com\ncec config add token --url https://cells.example.com --token <token>"),
    cmd("config add client-auth", "Connect to the server using Client Credentials")
        .build(build::config_add_client_auth)
        .long("Logs in with a login and a password. Interactive unless --url, --login and --password\n(or CEC_URL, CEC_LOGIN, CEC_PASSWORD) are all given.")
        .ex("cec config add client-auth
CEC_PASSWORD=secret cec config add client-auth --url https://cells.example.com --login alice"),
    cmd("config add oauth", "Use OAuth2 credential flow to login to the server")
        .build(build::config_add_oauth)
        .long("Opens the server's login page in a browser and waits for the redirection to
http://localhost:PORT/servers/callback (a small server on 127.0.0.1). With --no-browser or
without a display, prints the URL: open it anywhere and paste back the code shown by the server.
With --url and --id-token, stores that token without any flow (it cannot be refreshed).")
        .ex("cec config add oauth
cec config add oauth --url https://cells.example.com --no-browser
cec config add oauth --url https://cells.example.com --port 3001 --timeout 600")
        .flags(OAUTH_FLAGS),
    cmd("config add token", "Configure Authentication using a Personal Access Token")
        .build(build::config_add_token)
        .long("Stores a Personal Access Token (generated on the server, e.g. 'cells admin user token').\nInteractive unless --url and --token (or CEC_URL and CEC_TOKEN) are given.")
        .ex("cec config add token
CEC_TOKEN=<token> cec config add token --url https://cells.example.com"),
    cmd("config check-keyring", "Try to store and retrieve a dummy value in the local keyring to test it")
        .build(build::config_check_keyring)
        .ex("cec config check-keyring"),
    cmd("config ls", "List the current authentication profiles")
        .build(build::config_ls)
        .long("Lists the accounts (columns: active mark, ID, label, user, server URL, auth type). The ID
(<user>@<host>:<port>) tells apart two accounts of one user on one host; give it to 'config
use', 'config rm' and 'config relog'. On a terminal a table, otherwise tab-separated rows.
--json keys: id, active, label, user, url, auth_type (pat, oauth2 or session), skip_verify,
keyring (the secret is in the OS keyring, not in config.json).")
        .ex("cec config ls\ncec config ls --json | jq -r 'select(.active) | .id'")
        .flags(CONFIG_LS_FLAGS),
    cmd("config relog", "Re-run the authentication process for an existing connection")
        .build(build::config_relog)
        .args("[ID]", 0, 1)
        .long("Runs the login of the account ID again (asks which one without ID) and makes it active.")
        .ex("cec config relog\ncec config relog alice@cells.example.com --no-browser")
        .flags(RELOG_FLAGS),
    cmd("config rm", "Remove a profile from the local storage")
        .build(build::config_rm)
        .args("[ID]", 0, 1)
        .long("Forgets the account ID (asks which one without ID) and its keyring secret.\nAsks for confirmation unless --force is given; without a terminal, ID and --force are required.")
        .ex("cec config rm\ncec config rm alice@cells.example.com --force")
        .flags(CONFIRM_FLAGS),
    cmd("config use", "Define one of the authentication profiles as the current active one")
        .build(build::config_use)
        .args("[ID]", 0, 1)
        .long("Makes the account ID active (asks which one without ID). IDs are listed by 'cec config ls'.
A label (<user>@<host>) works too when only one account has it; when several have it, cec
lists their IDs and exits with code 2.")
        .ex("cec config use\ncec config use admin@cells.example.com"),
    cmd("configure", "[Deprecated] Configure a connection to a running server and persist credentials locally for later use")
        .build(build::config_add)
        .hide()
        .ex("cec config add"),
    cmd("configure check-keyring", "[Deprecated] Rather use 'cec config check-keyring'")
        .build(build::config_check_keyring).hide(),
    cmd("configure client-auth", "[Deprecated] Rather use 'cec config add client-auth'")
        .build(build::config_add_client_auth).hide(),
    cmd("configure oauth", "[Deprecated] Rather use 'cec config add oauth'")
        .build(build::config_add_oauth).hide().flags(OAUTH_FLAGS),
    cmd("configure token", "[Deprecated] Rather use 'cec config add token'")
        .build(build::config_add_token).hide(),
    cmd("cp", "Copy files from A to B within your remote server")
        .build(build::cp)
        .args("SOURCE... TARGET", 2, usize::MAX)
        .comp(Complete::Remote)
        .long("Copies remote files or folders on the server (no download).
If TARGET is an existing folder, the sources are copied into it; otherwise TARGET is the new
full path of the single SOURCE (its parent folder must exist). A trailing '/' changes nothing.
Several sources (or a wildcard) need an existing target folder. A missing source is exit code 4.
An existing destination is refused (exit code 5) unless --force is given: it is then moved to
the recycle bin first. A last path element '*' (or '%') means all children of that folder
('a/*.jpg' is a literal name). The command waits for the server job (--timeout).")
        .ex("# Copy a file into a folder, then under a new name
cec cp common-files/report.pdf personal-files/
cec cp common-files/report.pdf personal-files/report-2024.pdf

# Copy all children of a folder (quote the * for the shell)
cec cp 'common-files/photos/*' personal-files/backup

# Several sources into one folder, replacing existing files
cec cp --force common-files/a.txt common-files/b.txt personal-files/docs")
        .flags(CPMV_FLAGS),
    cmd("doc", "Generate documentation of the Cells Client")
        .build(build::doc)
        .hide()
        .long("Writes one Markdown and one YAML file per visible command into DIR.")
        .ex("cec doc -p ./docs")
        .flags(DOC_FLAGS),
    cmd("help", "Help about any command")
        .build(build::help)
        .args("[COMMAND...]", 0, usize::MAX)
        .ex("cec help\ncec help scp\ncec help config add oauth"),
    group("idm", "Identity Management commands")
        .long("Lists users, groups, roles, workspaces and ACLs (administrator rights needed).
Every list is complete (paged through); on a terminal it is a table, otherwise one
tab-separated row per item; --json prints one JSON object per line.")
        .ex("cec idm list-users\ncec idm list-acls -n <node-uuid>"),
    cmd("idm list-acls", "List ACLs by node UUID")
        .build(build::idm_list_acls)
        .long("Lists the ACLs of the given nodes (columns: node UUID, role ID, action, workspace ID).
With --delete, deletes them after confirmation: only y or yes proceeds, and when stdin is not
a terminal nothing is deleted without --force (exit code 2).
--json keys: id, node_uuid, role_id, action, value, workspace_id.")
        .ex("cec idm list-acls -n 8b3b4c3e-...
cec idm list-acls -n uuid1,uuid2 --delete
cec idm list-acls -n uuid1 --delete --force")
        .flags(LIST_ACLS_FLAGS),
    cmd("idm list-groups", "List groups")
        .build(build::idm_list_groups)
        .long("Lists every group (columns: label, group path, UUID).\n--json keys: uuid, label, group_path.")
        .ex("cec idm list-groups\ncec idm list-groups --json | jq -r .label")
        .flags(IDM_LIST_FLAGS),
    cmd("idm list-roles", "List roles")
        .build(build::idm_list_roles)
        .long("Lists every role (columns: label, type, UUID); the type is group, user, team or empty.\n--json keys: uuid, label, type (group, user, team or role).")
        .ex("cec idm list-roles")
        .flags(IDM_LIST_FLAGS),
    cmd("idm list-users", "List users")
        .build(build::idm_list_users)
        .long("Lists every user (columns: login, display name, profile, group path, UUID).\n--json keys: login, uuid, display_name, email, profile, group_path.")
        .ex("cec idm list-users\ncec idm list-users | cut -f1\ncec idm list-users --json | jq -r .login")
        .flags(IDM_LIST_FLAGS),
    cmd("idm list-workspaces", "List workspaces")
        .build(build::idm_list_workspaces)
        .long("Lists every workspace and cell (columns: label, slug, scope, UUID, description).\n--json keys: uuid, slug, label, description, scope.")
        .ex("cec idm list-workspaces")
        .flags(IDM_LIST_FLAGS),
    cmd("info", "Display the active connection's info: user, server and authentication type")
        .build(build::info)
        .long("Shows the user, server URL and authentication type of the active account (or of the
--url/--token flags), and the server version when the server tells it.
--json keys: user, url, auth_type (pat, oauth2 or session), account (the account ID, null
in --url/--token mode), server_version (null when the server does not tell it).")
        .ex("cec info\ncec info --json | jq -r .server_version")
        .flags(JSON_FLAGS),
    group("jobs", "Manage jobs")
        .long("Lists and deletes server jobs (administrator rights needed for other users' jobs).")
        .ex("cec jobs get\ncec jobs get --format json"),
    cmd("jobs delete", "Delete jobs")
        .build(build::jobs_delete)
        .long("Deletes the job --job-id (exit code 4 if unknown) or the jobs matching --filter ('{}' selects
every job; both: the job must match). System jobs are deleted one at a time only: a batch
skips them. Asks for confirmation on a terminal (only y or yes proceeds); when stdin is not a
terminal nothing is deleted without --force (exit code 2). --dry-run shows the selection.
The results are a table (ID, Label, Result) or, with --format json, a JSON array of
{JobID, JobLabel, Result}. Exit code 6 when only some jobs were deleted.
This API exists in Cells Enterprise only: another edition answers one line, exit code 1.")
        .ex("cec jobs delete --filter '{\"task_status\":{\"op\":\"eq\",\"value\":\"Error\"}}' --dry-run
cec jobs delete --job-id <id> --force")
        .flags(JOBS_DELETE_FLAGS),
    cmd("jobs get", "Query and list existing jobs")
        .build(build::jobs_get)
        .long("Lists every job the account may see, all owners for an administrator (columns: ID, label,
owner, number of tasks, status of the most recent task).
Filter: a JSON object of conditions that must all hold, {\"FIELD\":{\"op\":OP,\"value\":V}}.
Fields: owner, numtasks, task_status; operators eq/==, ne/!= and, for numtasks, gt/>, lt/<.
--format json prints the server's job objects as a JSON array; --json prints one object per
line with the keys id, label, owner, system, num_tasks, status, message, start_time, end_time.")
        .ex("cec jobs get
cec jobs get --filter '{\"owner\":{\"op\":\"eq\",\"value\":\"admin\"}}' --format json
cec jobs get --filter '{\"numtasks\":{\"op\":\"gt\",\"value\":10}}'
cec jobs get --json | jq -r 'select(.status == \"Error\") | .id'")
        .flags(JOBS_GET_FLAGS),
    cmd("ls", "List files in your Cells server")
        .build(build::ls)
        .args("[PATH]", 0, 1)
        .comp(Complete::Remote)
        .long("Lists the workspaces (no PATH), the children of a folder, or a file's own entry.
PATH is <workspace>/<path inside the workspace>; leading and trailing '/' are ignored.
At most one of --details, --raw, --exists, --format, --json.
--raw, --format and --json print the children of a folder (not the folder itself).
--json prints one object per line: {\"type\":\"file|folder|workspace|cell\",\"uuid\":..,\"name\":..,
\"path\":\"<ws>/<path>\",\"size\":<bytes>,\"mtime\":<unix seconds>,\"hash\":..} (null when unknown);
workspaces also carry label, description and permissions; their uuid is the workspace's
(the one of 'ls -d', --format '{{.Uuid}}' and 'idm list-workspaces').
--format prints each node with a template (Go text/template syntax, a subset): fields
{{.Type}} {{.Uuid}} {{.Name}} {{.Path}} {{.HumanSize}} {{.SizeBytes}} {{.TimeStamp}} {{.Date}}
{{.Hash}}; {{if .X}}…{{else if .Y}}…{{else}}…{{end}} (an empty value is false), eq, ne, not,
{{printf \"%-20s %8d\" .Name .SizeBytes}} (verbs %s %d %v %q, width, precision, '-'),
quoted strings with Go escapes, {{/* comments */}}; \\n and \\t in the text are a newline
and a tab. Anything else (range, pipes, variables...) is refused with one line (exit code 2).
When stdout is not a terminal, tables are printed as tab-separated rows without borders.")
        .ex("cec ls
cec ls common-files
cec ls -d common-files/photos
cec ls --raw common-files
cec ls --exists common-files/report.pdf && echo present
cec ls --format '{{.Name}} {{.SizeBytes}}' common-files
cec ls --format '{{printf \"%-30s\" .Name}}{{if eq .Type \"Folder\"}}<dir>{{else}}{{.HumanSize}}{{end}}' common-files
cec ls --json common-files | jq -r .path")
        .flags(LS_FLAGS),
    group("meta", "Metadata commands")
        .long("Reads and writes user metadata (namespaces defined on the server) of remote nodes.")
        .ex("cec meta get -p common-files/report.pdf"),
    cmd("meta get", "Get node's metadata")
        .build(build::meta_get)
        .long("Shows the metadata of a node, sorted by name (exit code 4 when --namespace is not set on it).
--format json prints one object {\"name\": value, ...} with the values as JSON.
--all lists the namespaces the server defines and their type (--format json: one object
per line with namespace, label, type, order, definition).")
        .ex("cec meta get -p common-files/report.pdf
cec meta get -p common-files/report.pdf -n usermeta-tags --format json
cec meta get --all")
        .flags(META_GET_FLAGS),
    cmd("meta set", "Set specific metadata for node")
        .build(build::meta_set)
        .long("Sets (update) or clears (delete) the value of one namespace on a node.
The value flag must suit the namespace type, and the value is checked before anything is
sent (exit code 2 otherwise):
  string, textarea, css_label  -s TEXT
  choice                       -s KEY (one of the namespace's choices)
  tags                         -s TAG[,TAG...] (added to the node's tags)
  date                         -s YYYY-MM-DD, 'YYYY-MM-DD hh:mm:ss' or YYYY-MM-DDThh:mm:ssZ (UTC)
  stars_rate                   -r 0..5
  integer                      -r N
  boolean                      -b or --boolean-value=false
  json                         -j JSON
delete clears the value; for tags, -s removes only those tags (other values are ignored).")
        .ex("cec meta set -p common-files/report.pdf -o update -n usermeta-tags -s urgent
cec meta set -p common-files/report.pdf -o update -n usermeta-rating -r 4
cec meta set -p common-files/report.pdf -o update -n usermeta-deadline -s 2025-06-30
cec meta set -p common-files/report.pdf -o delete -n usermeta-tags -s urgent
cec meta set -p common-files/report.pdf -o delete -n usermeta-rating")
        .flags(META_SET_FLAGS),
    cmd("mkdir", "Create folder(s) in the remote server")
        .build(build::mkdir)
        .args("PATH...", 1, usize::MAX)
        .comp(Complete::Remote)
        .long("Creates each folder and its missing parents; an existing folder is reported, not recreated.\nPATH starts with a workspace, e.g. common-files/new/folder.")
        .ex("cec mkdir common-files/projects/2024\ncec mkdir personal-files/a personal-files/b")
        .flags(MKDIR_FLAGS),
    cmd("mv", "Move and/or rename nodes on the server")
        .build(build::mv)
        .args("SOURCE... TARGET", 2, usize::MAX)
        .comp(Complete::Remote)
        .long("Moves remote files or folders on the server, also across workspaces when permitted.
If TARGET is an existing folder, the sources are moved into it; otherwise TARGET is the new
full path of the single SOURCE (rename; its parent folder must exist). A trailing '/' changes
nothing. Several sources (or a wildcard) need an existing target folder. An existing destination
is refused (exit code 5) unless --force is given: it is then moved to the recycle bin first.
A last path element '*' (or '%') means all children of that folder. The command waits for the
server job (--timeout).")
        .ex("# Rename
cec mv common-files/draft.txt common-files/final.txt

# Move into an existing folder
cec mv common-files/final.txt personal-files/archive

# Move all children of a folder (quote the * for the shell)
cec mv 'common-files/inbox/*' common-files/archive")
        .flags(CPMV_FLAGS),
    cmd("rm", "Trash files or folders")
        .build(build::rm)
        .args("PATH...", 1, usize::MAX)
        .comp(Complete::Remote)
        .long("Moves remote files or folders to the workspace recycle bin, or deletes them definitively
with --permanently. Every path must exist (exit code 4, nothing deleted otherwise).
Asks for confirmation unless --force is given (only y or yes proceeds); when stdin is not a
terminal, nothing is deleted without --force (exit code 2). A last path element '%' or '*'
(quoted) means all children of that folder (the recycle bin excepted). The command waits for
the server's delete jobs: exit code 6 when only some items were deleted.")
        .ex("cec rm common-files/old.txt
cec rm -f common-files/a.txt common-files/b.txt
cec rm --permanently --force 'common-files/tmp/*'
cec rm common-files/tmp/%
cec rm -- common-files/-odd-name")
        .flags(RM_FLAGS),
    cmd("cat", "Write a remote file to standard output")
        .build(build::cat)
        .args("PATH", 1, 1)
        .comp(Complete::Remote)
        .long("Writes the remote file PATH (<workspace>/<path>) to standard output, like
'cec scp cells://PATH -'. The content is checked against the server's hash at the end: on a
mismatch, or when the transfer fails midway, the exit code is not 0 and what was already
written must not be trusted.")
        .ex("cec cat common-files/notes.txt
cec cat common-files/backup.tar.gz | tar xz")
        .flags(CAT_FLAGS),
    cmd("scp", "Copy files from/to Cells")
        .build(build::scp)
        .args("SOURCE... TARGET", 2, usize::MAX)
        .comp(Complete::Scp)
        .long("Uploads or downloads files and folder trees. The remote side starts with cells:// (or
cells// for shell completion), e.g. cells://common-files/folder.
TARGET is the folder that receives SOURCE under its own name (TARGET/<name>), except for a
single file whose TARGET does not exist but whose parent folder does: it is copied under the new
name TARGET (like cp; a trailing '/' on TARGET asks for a folder instead). An existing
TARGET/<name> is a conflict (exit code 5) unless --force is given: files are replaced (identical
ones skipped), folders are merged, items of the other type are replaced.
Transfers are verified (size and content hash), downloads are written to a temporary file then
renamed, and an interrupted run (Ctrl-C, network loss, server restart) continues where it
stopped when the same command is run again (no --force needed). Symbolic links are
skipped unless --follow-links is given. One failed file does not stop the others (unless
--fail-fast); the exit code is then 6. Every flag also reads its CEC_ variable, e.g.
CEC_PART_SIZE=100.
Several SOURCEs (all local, or all remote) go into the folder TARGET, which must exist unless
-p/--parents is given. A remote SOURCE may hold shell-style wildcards in its last element:
'*' (any characters), '?' (one), '[abc]' (one of a set); quote it so that the local shell does
not expand it. (cp, mv and rm take only a whole '*' element: see 'cec help cp'.)
'-' streams: 'cec scp - cells://ws/file' uploads standard input (multipart, memory bounded by
the multipart threshold, then parts-concurrency + 1 parts; a failure stores nothing), and
'cec scp cells://ws/file -' writes the file to standard output, checked against the server's
hash at the end (exit code 1 on a mismatch: what was written must not be trusted).
--bwlimit RATE caps the bandwidth of all the transfers together.")
        .ex("# Upload a file or a folder into a remote folder
cec scp ./report.pdf cells://common-files/
cec scp ./photos cells://personal-files/backup

# Download, replacing/merging existing local items
cec scp cells://common-files/photos ~/Pictures
cec scp --force cells://common-files/report.pdf ./report.pdf

# Big files: larger parts, more parallel parts, plain logs for cron
cec scp --part-size 100 --parts-concurrency 6 --no-progress ./disk.img cells://common-files/

# Several sources, remote wildcards, pipes
cec scp -p a.txt b.txt ./docs cells://common-files/inbox/
cec scp 'cells://common-files/reports/*.pdf' ./reports/
pg_dump db | gzip | cec scp - cells://common-files/db.sql.gz
cec scp cells://common-files/db.sql.gz - | gunzip | psql db")
        .flags(SCP_FLAGS),
    cmd("sync", "Make a folder the mirror of another, local to remote or remote to local")
        .build(build::sync)
        .args("SOURCE... TARGET", 2, usize::MAX)
        .comp(Complete::Scp)
        .long("Makes TARGET hold what SOURCE holds: one side is remote (cells://), the other local;
both are folders (a missing TARGET is created with -p/--parents). Only what differs is
sent: by default a file is sent when the sizes differ or when its time differs (upload: the
local file is newer than the server's copy; download: the times differ, downloads get the
server's time); --checksum compares the server's content hash with the local file's (nothing
is downloaded), --size-only the sizes. Items of the other type are replaced. --delete also
removes what SOURCE no longer has (server: to the recycle bin; local: only inside TARGET,
links are removed, never followed); nothing is deleted when a transfer failed.
--include/--exclude take globs, tried in order, the first match wins: '*' stays inside one
path element, '**' crosses '/', a leading '/' anchors at SOURCE, a trailing '/' names folders
(and all that is below them); when some --include is given, files that match no rule are
left out. Excluded items are neither sent nor deleted. --max-age leaves out files older than
AGE (on both sides). Runs for the same TARGET do not overlap: a second one exits at once with
code 5. An interrupted sync continues where it stopped when run again. Exit code 0 when all
went well, 6 when some items failed (listed). One summary line on stderr; --json prints the
actions and the summary as JSON lines on stdout; --dry-run prints the plan only.
Several SOURCEs (or a remote SOURCE with wildcards in its last element, as in scp) are each
synced into TARGET/<name>; TARGET must then exist (or -p).")
        .ex("# Nightly backup (see README, Backups with cron)
cec sync --delete --no-progress /srv/data cells://common-files/backup/data

# What would change, as JSON
cec sync --dry-run --json ./site cells://common-files/site

# Fetch last week's reports, PDFs only
cec sync --include '*.pdf' --max-age 7d cells://common-files/reports ./reports")
        .flags(SYNC_FLAGS),
    cmd("share", "Share a single file or folder")
        .build(build::share)
        .args("PATH", 1, 1)
        .comp(Complete::Remote)
        .long("Creates a public link (download and preview) for a remote file or folder and prints its URL on stdout.
To protect the link with a password, type it at the prompt of --ask-password, or put it in the
first line of a file (--password-file FILE) or in CEC_LINK_PASSWORD. --password also works, but
other users of the machine can read a command line (ps): cec then prints a warning.
--json prints one object: url, path, node_uuid, link_uuid, link_hash, expires_at (Unix
seconds or null), max_downloads (or null), password (true when the link has one).")
        .ex("cec share common-files/report.pdf
cec share common-files/photos --expire-days 7 --max-downloads 20
cec share common-files/report.pdf --ask-password
cec share common-files/report.pdf --password-file ~/.config/link-password
CEC_LINK_PASSWORD=\"$(pass show link)\" cec share common-files/report.pdf
cec share common-files/report.pdf --json | jq -r .url")
        .flags(SHARE_FLAGS),
    group("storage", "Datasource commands")
        .long("Lists datasources and launches resynchronisations (administrator rights needed).")
        .ex("cec storage list-datasources"),
    cmd("storage list-datasources", "List configured datasources")
        .build(build::storage_list_datasources)
        .long("Lists every datasource (columns: name, storage type, bucket, folder, versioning policy).
--raw prints the names only; --json one object per line with the keys name, storage_type,
bucket, base_folder, versioning_policy, disabled, flat.")
        .ex("cec storage list-datasources\ncec storage list-datasources --raw")
        .flags(LIST_DS_FLAGS),
    cmd("storage resync-ds", "Launch a resync")
        .build(build::storage_resync_ds)
        .args("DSNAME", 1, 1)
        .long("Starts the resynchronisation of a datasource and waits for the server job: exit code 0
when it finished, 1 when it failed or --timeout passed (the job then goes on on the server),
4 when no datasource has that name.")
        .ex("cec storage resync-ds pydiods1\ncec storage resync-ds pydiods1 --timeout 600")
        .flags(RESYNC_FLAGS),
    group("tools", "Additional tools")
        .hide()
        .ex("cec tools hash -f ./file.bin\ncec tools version isgreater 4.3.1 4.2.0"),
    cmd("tools hash", "Compute the hash of a local file using the same algorithm as the one used by the Cells Server")
        .build(build::tools_hash)
        .long("Cells' internal hash: MD5 of the concatenation of the MD5s of the 10 MiB blocks of the file.
--raw prints the hash alone; --json one object with the keys file, size (bytes) and hash.")
        .ex("cec tools hash -f ./file.bin\ncec tools hash -f ./file.bin --raw\ncec tools hash -f ./file.bin --json")
        .flags(HASH_FLAGS),
    group("tools version", "Version helpers")
        .ex("cec tools version isvalid 4.3.1\ncec tools version isgreater 4.3.1 4.3.1-rc1"),
    cmd("tools version isgreater", "Compare the two versions, succeed when the first is greater than the second")
        .build(build::version_isgreater)
        .args("V1 V2", 2, 2)
        .ex("cec tools version isgreater 4.3.1 4.1.1-dev.20240425\ncec tools version isgreater -q 4.0.0 4.1.0")
        .flags(QUIET_FLAGS),
    cmd("tools version isrelease", "Check if a given string represents a valid **RELEASE** version")
        .build(build::version_isrelease)
        .args("VERSION", 1, 1)
        .ex("cec tools version isrelease 4.3.1\ncec tools version isrelease -q 4.3.1-rc1")
        .flags(QUIET_FLAGS),
    cmd("tools version isvalid", "Check if a given string represents a valid version")
        .build(build::version_isvalid)
        .args("VERSION", 1, 1)
        .ex("cec tools version isvalid 4.1.1-dev.20240425\ncec tools version isvalid -q foo")
        .flags(QUIET_FLAGS),
    cmd("update", "Check for available updates and apply them")
        .build(build::update)
        .long("Lists the newer versions offered by the update server; with --version, downloads that
version, checks its size, checksum and signature, runs it once, keeps the current binary in
the configuration folder and replaces the running binary atomically. --rollback puts the
kept binary back. A build without an update server says so (see README, Updating).")
        .ex("cec update\ncec update --version 4.3.2\ncec update --dev\ncec update --rollback")
        .flags(UPDATE_FLAGS),
    cmd("version", "Show Cells Client version information")
        .build(build::version)
        .long("Prints the version, build time, git commit, OS/architecture (Go's names: linux/amd64,
linux/arm64, linux/arm) and Rust version.
--format prints a template without an added newline: fields {{.PackageLabel}}, {{.Version}},
{{.Built}}, {{.GitCommit}}, {{.GitTime}} (commit time), {{.OS}}, {{.Arch}}, {{.RustVersion}}
and {{.GoVersion}} (the reference's name; it holds the Rust version). Templates take
{{if .X}}…{{else}}…{{end}}, {{printf \"%-20s\" .X}}, eq, ne, not and \\n, \\t (see 'cec ls --help').
--json prints one object: package_label, version, built, git_commit, git_time, os, arch,
rust_version.")
        .ex("cec version\ncec version -f '{{.Version}}'\ncec version -f '{{.OS}}/{{.Arch}}{{if .GitTime}} ({{.GitTime}}){{end}}\\n'\ncec version --json\ncec --version")
        .flags(VERSION_FLAGS),
    cmd("version isgreater", "[Deprecated] Rather use 'cec tools version isgreater'")
        .build(build::version_isgreater)
        .hide()
        .args("V1 V2", 2, 2)
        .flags(QUIET_FLAGS),
    cmd("version isrelease", "[Deprecated] Rather use 'cec tools version isrelease'")
        .build(build::version_isrelease)
        .hide()
        .args("VERSION", 1, 1)
        .flags(QUIET_FLAGS),
    cmd("version isvalid", "[Deprecated] Rather use 'cec tools version isvalid'")
        .build(build::version_isvalid)
        .hide()
        .args("VERSION", 1, 1)
        .flags(QUIET_FLAGS),
];
