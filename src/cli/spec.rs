//! The single definition of every command and flag: it feeds the parser
//! (`cli::parse`), the help texts (`commands::help`), the completion scripts
//! (`commands::completion`) and the generated docs (`commands::doc`).
//! (Model: ripgrep's `crates/core/flags/defs.rs`.)
// Shared API: parts are used only by some commands (or later ones).
#![allow(dead_code)]

/// One flag of a command (or a global flag).
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// Long name without the leading `--`.
    pub long: &'static str,
    pub short: Option<char>,
    /// Value placeholder for flags taking a value (`None` for switches).
    pub value: Option<&'static str>,
    pub help: &'static str,
    /// Hidden flags are only shown in help when `CEC_DISPLAY_HIDDEN_FLAGS` is set.
    pub hidden: bool,
    /// Bound to the environment variable `CEC_<KEY>` (upper case, `-` → `_`).
    pub env: bool,
    /// Canonical key the value is stored under (legacy underscore spellings point
    /// to the dashed name); empty = `long`.
    pub alias_of: &'static str,
    /// Default shown in help (empty = none).
    pub default: &'static str,
    /// What the value completes to.
    pub complete: Complete,
}

/// What a positional argument or a flag value completes to in shell completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Complete {
    Nothing,
    /// Local files.
    Files,
    /// Local directories.
    Dirs,
    /// Remote paths (`cec ls --raw`).
    Remote,
    /// `cells//`-prefixed remote paths or local files (scp).
    Scp,
    /// A fixed list of words.
    Words(&'static [&'static str]),
}

impl Flag {
    pub const fn key(&self) -> &'static str {
        if self.alias_of.is_empty() {
            self.long
        } else {
            self.alias_of
        }
    }
    pub fn env_name(&self) -> Option<String> {
        if !self.env {
            return None;
        }
        Some(format!(
            "CEC_{}",
            self.key().to_ascii_uppercase().replace('-', "_")
        ))
    }
    const fn hide(mut self) -> Self {
        self.hidden = true;
        self
    }
    const fn env(mut self) -> Self {
        self.env = true;
        self
    }
    const fn alias(mut self, of: &'static str) -> Self {
        self.alias_of = of;
        self.hidden = true;
        self
    }
    /// Like `alias` but listed in help.
    const fn alias_shown(mut self, of: &'static str) -> Self {
        self.alias_of = of;
        self
    }
    const fn def(mut self, d: &'static str) -> Self {
        self.default = d;
        self
    }
    const fn comp(mut self, c: Complete) -> Self {
        self.complete = c;
        self
    }
}

/// A switch (boolean flag).
const fn sw(long: &'static str, short: Option<char>, help: &'static str) -> Flag {
    Flag {
        long,
        short,
        value: None,
        help,
        hidden: false,
        env: false,
        alias_of: "",
        default: "",
        complete: Complete::Nothing,
    }
}

/// A flag taking a value.
const fn val(
    long: &'static str,
    short: Option<char>,
    value: &'static str,
    help: &'static str,
) -> Flag {
    Flag {
        long,
        short,
        value: Some(value),
        help,
        hidden: false,
        env: false,
        alias_of: "",
        default: "",
        complete: Complete::Nothing,
    }
}

/// Root flags, accepted anywhere on the command line.
pub static GLOBAL_FLAGS: &[Flag] = &[
    val("url", Some('u'), "URL", "Server URL, e.g. https://cells.example.com (env/flag mode)").env(),
    val("token", Some('t'), "TOKEN", "Personal Access Token (env/flag mode; prefer CEC_TOKEN to keep it out of the process list)").env(),
    val("login", None, "LOGIN", "User login for login/password (client-auth) mode").env(),
    val("password", None, "PASSWORD", "User password for client-auth mode (prefer CEC_PASSWORD)").env(),
    sw("skip-verify", None, "Skip TLS certificate verification (unsafe)").env(),
    sw("skip-keyring", None, "Never use the OS keyring; secrets are stored in config.json (mode 0600)").env(),
    sw("no-cache", None, "Do not cache the session token (client-auth env/flag mode)").env(),
    val("config", None, "DIR", "Directory holding config.json").env().comp(Complete::Dirs).def("~/.config/pydio/cells-client"),
    val("log", None, "LEVEL", "Log level on stderr: debug, info, warn or error").env().def("info").comp(Complete::Words(&["debug", "info", "warn", "error"])),
    sw("skip_verify", None, "Legacy spelling of --skip-verify").alias("skip-verify").env(),
    sw("skip_keyring", None, "Legacy spelling of --skip-keyring").alias("skip-keyring").env(),
    sw("no_cache", None, "Legacy spelling of --no-cache").alias("no-cache").env(),
];

/// `-h/--help`, accepted by every command (listed in help, handled by the parser).
pub static HELP_FLAG: Flag = sw("help", Some('h'), "Show help for this command");
/// `--version`, root only.
pub static VERSION_FLAG: Flag = sw("version", None, "Show version information");

static NO_FLAGS: &[Flag] = &[];

static CLEAR_FLAGS: &[Flag] = &[sw("force", Some('f'), "Do not ask for confirmation")];

static OAUTH_FLAGS: &[Flag] = &[
    val("id-token", None, "TOKEN", "Store this currently valid OAuth access token instead of running the browser flow (no refresh token: the account stops working when it expires)"),
    val("id_token", None, "TOKEN", "Legacy spelling of --id-token").alias("id-token"),
    val("port", None, "PORT", "Local port of the OAuth callback server on 127.0.0.1").def("3000"),
    sw("no-pkce", None, "Do not send a PKCE challenge (for servers that reject it)"),
    sw("no-browser", None, "Do not open a browser: print the URL and paste the code shown by the server"),
    val("timeout", None, "SECS", "Give up waiting for the browser login after SECS seconds").def("300"),
];

static RELOG_FLAGS: &[Flag] = &[
    val(
        "port",
        None,
        "PORT",
        "Local port of the OAuth callback server on 127.0.0.1 (OAuth accounts)",
    )
    .def("3000"),
    sw(
        "no-pkce",
        None,
        "Do not send a PKCE challenge (OAuth accounts)",
    ),
    sw(
        "no-browser",
        None,
        "Do not open a browser: print the URL and paste the code (OAuth accounts)",
    ),
    val(
        "timeout",
        None,
        "SECS",
        "Give up waiting for the browser login after SECS seconds",
    )
    .def("300"),
];

static CONFIG_RM_FLAGS: &[Flag] = &[sw("force", Some('f'), "Do not ask for confirmation")];

static CPMV_FLAGS: &[Flag] = &[
    sw(
        "force",
        Some('f'),
        "Replace an existing target file instead of refusing",
    ),
    val(
        "timeout",
        None,
        "SECS",
        "Give up waiting for the server job after SECS seconds",
    )
    .def("3600"),
];

static DOC_FLAGS: &[Flag] = &[
    val(
        "path",
        Some('p'),
        "DIR",
        "Directory where the files are written (required)",
    )
    .comp(Complete::Dirs),
    val(
        "menu",
        Some('m'),
        "MENU",
        "Menu name written in the YAML files",
    )
    .def("menu-admin-guide-v7"),
];

static LIST_ACLS_FLAGS: &[Flag] = &[
    val(
        "uuid",
        Some('n'),
        "UUID",
        "Node UUID (repeatable, or comma-separated)",
    ),
    sw(
        "delete",
        None,
        "Delete the listed ACLs (asks for confirmation)",
    ),
];

static JOBS_GET_FLAGS: &[Flag] = &[
    val("format", None, "FORMAT", "Output format: table or json")
        .def("table")
        .comp(Complete::Words(&["table", "json"])),
    val(
        "filter",
        None,
        "JSON",
        "Filter, e.g. '{\"owner\":{\"op\":\"eq\",\"value\":\"admin\"}}'",
    ),
];

static JOBS_DELETE_FLAGS: &[Flag] = &[
    val("format", None, "FORMAT", "Output format: table or json")
        .def("table")
        .comp(Complete::Words(&["table", "json"])),
    val(
        "filter",
        None,
        "JSON",
        "Filter, e.g. '{\"task_status\":{\"op\":\"eq\",\"value\":\"Error\"}}'",
    ),
    val("job-id", None, "ID", "Delete this job"),
    sw(
        "force",
        None,
        "Do not ask for confirmation (needed to delete a system job)",
    ),
    sw(
        "dry-run",
        None,
        "Show what would be deleted, delete nothing",
    ),
];

static LS_FLAGS: &[Flag] = &[
    sw("details", Some('d'), "Detailed table: type, uuid, name, size, modification date, internal hash"),
    sw("raw", Some('r'), "One full path per line, folders end with '/'"),
    sw("exists", Some('f'), "Print true or false and exit 0 if PATH exists, 4 if not"),
    val("format", None, "TEMPLATE", "Print each node with a template: {{.Type}} {{.Uuid}} {{.Name}} {{.Path}} {{.HumanSize}} {{.SizeBytes}} {{.TimeStamp}} {{.Date}} {{.Hash}}"),
    sw("json", None, "One JSON object per line and node (for scripts)"),
];

static META_GET_FLAGS: &[Flag] = &[
    val("path", Some('p'), "PATH", "Remote node path").comp(Complete::Remote),
    val(
        "format",
        Some('f'),
        "FORMAT",
        "Output format: table or json",
    )
    .def("table")
    .comp(Complete::Words(&["table", "json"])),
    sw("all", Some('a'), "List the user-meta namespaces instead"),
    val("namespace", Some('n'), "NS", "Only show this namespace"),
];

static META_SET_FLAGS: &[Flag] = &[
    val("path", Some('p'), "PATH", "Remote node path").comp(Complete::Remote),
    val("operation", Some('o'), "OP", "update or delete")
        .comp(Complete::Words(&["update", "delete"])),
    val("namespace", Some('n'), "NS", "Metadata namespace"),
    val(
        "string-value",
        Some('s'),
        "TEXT",
        "Value for string, textarea, choice, tags, date and css_label namespaces",
    ),
    val("json-value", Some('j'), "JSON", "Value for json namespaces"),
    val(
        "numeric-value",
        Some('r'),
        "N",
        "Value for integer and stars_rate namespaces",
    ),
    sw(
        "boolean-value",
        Some('b'),
        "Value true for boolean namespaces (--boolean-value=false for false)",
    ),
];

static MKDIR_FLAGS: &[Flag] = &[sw(
    "parents",
    Some('p'),
    "Create missing parent folders (always done; kept for compatibility)",
)];

static RM_FLAGS: &[Flag] = &[
    sw(
        "force",
        Some('f'),
        "Do not ask for confirmation (required when stdin is not a terminal)",
    ),
    sw(
        "permanently",
        Some('p'),
        "Delete definitively instead of moving to the recycle bin",
    ),
];

static SHARE_FLAGS: &[Flag] = &[
    val(
        "password",
        None,
        "PASSWORD",
        "Protect the link with a password (after 'share'; the global --password must then come before 'share', or use CEC_PASSWORD)",
    )
    .alias_shown("link-password"),
    val("link-password", None, "PASSWORD", "Same as --password"),
    val("expire-days", None, "DAYS", "The link expires after DAYS days"),
    val(
        "max-downloads",
        None,
        "N",
        "The link stops working after N downloads",
    ),
];

static SCP_FLAGS: &[Flag] = &[
    sw(
        "force",
        Some('f'),
        "Overwrite existing files and merge into existing folders",
    )
    .env(),
    sw(
        "no-progress",
        Some('n'),
        "No live progress display; one log line per file instead",
    )
    .env(),
    sw(
        "verbose",
        Some('v'),
        "Log each transfer (implies --no-progress)",
    )
    .env(),
    sw(
        "very-verbose",
        Some('w'),
        "Debug logs (implies --no-progress)",
    )
    .env(),
    sw(
        "quiet",
        Some('q'),
        "Refresh the progress display every 3 seconds only",
    )
    .env(),
    val(
        "part-size",
        None,
        "MIB",
        "Multipart part size in MiB, a multiple of 10",
    )
    .env()
    .def("50"),
    val(
        "parts-concurrency",
        None,
        "N",
        "Parts of one file uploaded in parallel",
    )
    .env()
    .def("3"),
    val(
        "files-concurrency",
        None,
        "N",
        "Files transferred in parallel",
    )
    .env()
    .def("3"),
    val(
        "multipart-threshold",
        None,
        "MIB",
        "Files larger than MIB MiB use multipart uploads",
    )
    .env()
    .def("100"),
    val(
        "max-parts-number",
        None,
        "N",
        "Maximum number of parts of a multipart upload",
    )
    .env()
    .def("5000"),
    val(
        "retry-max-attempts",
        None,
        "N",
        "Attempts per request on transient errors",
    )
    .env()
    .def("3"),
    val(
        "retry-max-backoff",
        None,
        "DURATION",
        "Maximum pause between attempts, e.g. 3s, 500ms, 1m",
    )
    .env()
    .def("3s"),
    val(
        "multipart-debug-flags",
        None,
        "FLAGS",
        "Accepted for compatibility (S3 SDK log categories); use --very-verbose",
    )
    .env()
    .hide(),
    sw(
        "skip-md5",
        None,
        "Skip the content check against the server hash (size is still checked)",
    )
    .env(),
    sw(
        "follow-links",
        None,
        "Follow symbolic links when uploading (default: skip them)",
    )
    .env(),
    sw("fail-fast", None, "Stop at the first failed file").env(),
    sw("no_progress", None, "Legacy spelling of --no-progress")
        .alias("no-progress")
        .env(),
    sw("very_verbose", None, "Legacy spelling of --very-verbose")
        .alias("very-verbose")
        .env(),
    sw("skip_md5", None, "Legacy spelling of --skip-md5")
        .alias("skip-md5")
        .env(),
    val("part_size", None, "MIB", "Legacy spelling of --part-size")
        .alias("part-size")
        .env(),
    val(
        "parts_concurrency",
        None,
        "N",
        "Legacy spelling of --parts-concurrency",
    )
    .alias("parts-concurrency")
    .env(),
    val(
        "multipart_threshold",
        None,
        "MIB",
        "Legacy spelling of --multipart-threshold",
    )
    .alias("multipart-threshold")
    .env(),
    val(
        "max_parts_number",
        None,
        "N",
        "Legacy spelling of --max-parts-number",
    )
    .alias("max-parts-number")
    .env(),
    val(
        "retry_max_attempts",
        None,
        "N",
        "Legacy spelling of --retry-max-attempts",
    )
    .alias("retry-max-attempts")
    .env(),
    val(
        "retry_max_backoff",
        None,
        "DURATION",
        "Legacy spelling of --retry-max-backoff",
    )
    .alias("retry-max-backoff")
    .env(),
];

static LIST_DS_FLAGS: &[Flag] = &[sw("raw", Some('r'), "Names only, one per line")];

static HASH_FLAGS: &[Flag] = &[
    val("file", Some('f'), "FILE", "Local file to hash (required)").comp(Complete::Files),
    sw("raw", Some('r'), "Print only the hash"),
];

static QUIET_FLAGS: &[Flag] = &[sw(
    "quiet",
    Some('q'),
    "Print 1 or 0 and exit 0 instead of failing",
)];

static UPDATE_FLAGS: &[Flag] = &[
    val(
        "version",
        Some('v'),
        "VERSION",
        "Install this exact version",
    ),
    sw(
        "dry_run",
        Some('d'),
        "Download, verify and try the new binary (or the kept one, with --rollback), replace nothing",
    ),
    sw("dry-run", None, "Same as --dry_run").alias("dry_run"),
    sw("dev", None, "Use the dev channel instead of stable"),
    sw(
        "rollback",
        None,
        "Put back the binary that the last update replaced",
    ),
];

static VERSION_FLAGS: &[Flag] = &[val(
    "format",
    Some('f'),
    "TEMPLATE",
    "Print with a template: {{.Version}} {{.Built}} {{.GitCommit}} {{.OS}} {{.Arch}} {{.RustVersion}}",
)];

/// One command of the tree.
#[derive(Debug, Clone, Copy)]
pub struct Cmd {
    /// Space-separated path without the program name: "" for the root, "config add oauth".
    pub path: &'static str,
    pub short: &'static str,
    /// Synopsis of the positional arguments, e.g. "SOURCE... TARGET".
    pub args: &'static str,
    pub long: &'static str,
    pub examples: &'static str,
    pub flags: &'static [Flag],
    pub hidden: bool,
    /// Can run without a sub-command (false for pure groups).
    pub runnable: bool,
    /// A pure group called without a sub-command: usage error instead of help.
    pub needs_sub: bool,
    pub min_args: usize,
    /// `usize::MAX` = unlimited.
    pub max_args: usize,
    pub complete: Complete,
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
        runnable: true,
        needs_sub: false,
        min_args: 0,
        max_args: 0,
        complete: Complete::Nothing,
    }
}

const fn group(path: &'static str, short: &'static str) -> Cmd {
    let mut c = cmd(path, short);
    c.runnable = false;
    c
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
    const fn flags(mut self, f: &'static [Flag]) -> Self {
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

    /// Find a flag of this command by long name (own flags first, then global flags).
    pub fn find_long(&self, name: &str) -> Option<&'static Flag> {
        self.flags
            .iter()
            .chain(GLOBAL_FLAGS.iter())
            .find(|f| f.long == name)
    }

    pub fn find_short(&self, c: char) -> Option<&'static Flag> {
        self.flags
            .iter()
            .chain(GLOBAL_FLAGS.iter())
            .find(|f| f.short == Some(c))
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
  130  interrupted (Ctrl-C)

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
cec scp cells://common-files/report.pdf .")
        .flags(NO_FLAGS),
    cmd("clear", "Clear all configuration")
        .long("Deletes config.json and the secrets of every account from the keyring.\nAsks for confirmation unless --force is given; without a terminal, --force is required.")
        .ex("cec clear\ncec clear --force")
        .flags(CLEAR_FLAGS),
    group("completion", "Add auto-completion helper to Cells Client")
        .needs_sub()
        .long("Prints a shell completion script on stdout. The bash script completes commands, flags\nand remote paths (through 'cec ls --raw'); it needs the bash-completion package.")
        .ex("# Current shell only
source <(cec completion bash)

# Install for every session (Linux, macOS with Homebrew)
cec completion bash | sudo tee /etc/bash_completion.d/cec
cec completion bash > /usr/local/etc/bash_completion.d/cec

# zsh: put _cec in a folder of your $fpath
cec completion zsh > \"${fpath[1]}/_cec\""),
    cmd("completion bash", "Generate the bash completion script")
        .ex("source <(cec completion bash)"),
    cmd("completion zsh", "Generate the zsh completion script")
        .ex("cec completion zsh > \"${fpath[1]}/_cec\""),
    group("config", "Manage authentication profiles")
        .long("Add, list, select, re-authenticate and remove the accounts (server + user) cec connects with.\nThe account marked active in 'cec config ls' is used by every command.")
        .ex("cec config add\ncec config ls\ncec config use admin@cells.example.com\ncec config rm alice@cells.example.com"),
    cmd("config add", "Configure a new connection to a running server and persist credentials locally")
        .long("Without a sub-command, asks which authentication method to use:
  oauth        OAuth2 login in a browser (default, most secure)
  token        Personal Access Token generated on the server
  client-auth  login and password (less secure)
Secrets are stored in the OS keyring; without a keyring (or with --skip-keyring) they are
stored in clear text in config.json (mode 0600). Each sub-command can run non-interactively
with flags or CEC_ variables (see their help).")
        .ex("cec config add\ncec config add oauth --url https://cells.example.com\ncec config add token --url https://cells.example.com --token <token>")
        .flags(NO_FLAGS),
    cmd("config add client-auth", "Connect to the server using Client Credentials")
        .long("Logs in with a login and a password. Interactive unless --url, --login and --password\n(or CEC_URL, CEC_LOGIN, CEC_PASSWORD) are all given.")
        .ex("cec config add client-auth
CEC_PASSWORD=secret cec config add client-auth --url https://cells.example.com --login alice"),
    cmd("config add oauth", "Use OAuth2 credential flow to login to the server")
        .long("Opens the server's login page in a browser and waits for the redirection to
http://localhost:PORT/servers/callback (a small server on 127.0.0.1). With --no-browser or
without a display, prints the URL: open it anywhere and paste back the code shown by the server.
With --url and --id-token, stores that token without any flow (it cannot be refreshed).")
        .ex("cec config add oauth
cec config add oauth --url https://cells.example.com --no-browser
cec config add oauth --url https://cells.example.com --port 3001 --timeout 600")
        .flags(OAUTH_FLAGS),
    cmd("config add token", "Configure Authentication using a Personal Access Token")
        .long("Stores a Personal Access Token (generated on the server, e.g. 'cells admin user token').\nInteractive unless --url and --token (or CEC_URL and CEC_TOKEN) are given.")
        .ex("cec config add token
CEC_TOKEN=<token> cec config add token --url https://cells.example.com"),
    cmd("config check-keyring", "Try to store and retrieve a dummy value in the local keyring to test it")
        .ex("cec config check-keyring"),
    cmd("config ls", "List the current authentication profiles")
        .ex("cec config ls"),
    cmd("config relog", "Re-run the authentication process for an existing connection")
        .args("[ID]", 0, 1)
        .long("Runs the login of the account ID again (asks which one without ID) and makes it active.")
        .ex("cec config relog\ncec config relog alice@cells.example.com --no-browser")
        .flags(RELOG_FLAGS),
    cmd("config rm", "Remove a profile from the local storage")
        .args("[ID]", 0, 1)
        .long("Forgets the account ID (asks which one without ID) and its keyring secret.\nAsks for confirmation unless --force is given; without a terminal, ID and --force are required.")
        .ex("cec config rm\ncec config rm alice@cells.example.com --force")
        .flags(CONFIG_RM_FLAGS),
    cmd("config use", "Define one of the authentication profiles as the current active one")
        .args("[ID]", 0, 1)
        .long("Makes the account ID active (asks which one without ID). IDs are listed by 'cec config ls'.")
        .ex("cec config use\ncec config use admin@cells.example.com"),
    cmd("configure", "[Deprecated] Configure a connection to a running server and persist credentials locally for later use")
        .hide()
        .ex("cec config add"),
    cmd("configure check-keyring", "[Deprecated] Rather use 'cec config check-keyring'").hide(),
    cmd("configure client-auth", "[Deprecated] Rather use 'cec config add client-auth'").hide(),
    cmd("configure oauth", "[Deprecated] Rather use 'cec config add oauth'").hide().flags(OAUTH_FLAGS),
    cmd("configure token", "[Deprecated] Rather use 'cec config add token'").hide(),
    cmd("cp", "Copy files from A to B within your remote server")
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
        .hide()
        .long("Writes one Markdown and one YAML file per visible command into DIR.")
        .ex("cec doc -p ./docs")
        .flags(DOC_FLAGS),
    cmd("help", "Help about any command")
        .args("[COMMAND...]", 0, usize::MAX)
        .ex("cec help\ncec help scp\ncec help config add oauth"),
    group("idm", "Identity Management commands")
        .long("Lists users, groups, roles, workspaces and ACLs (administrator rights needed).")
        .ex("cec idm list-users\ncec idm list-acls -n <node-uuid>"),
    cmd("idm list-acls", "List ACLs by node UUID")
        .long("Lists the ACLs of the given nodes; with --delete, deletes them after confirmation.")
        .ex("cec idm list-acls -n 8b3b4c3e-...\ncec idm list-acls -n uuid1,uuid2 --delete")
        .flags(LIST_ACLS_FLAGS),
    cmd("idm list-groups", "List groups").ex("cec idm list-groups"),
    cmd("idm list-roles", "List roles").ex("cec idm list-roles"),
    cmd("idm list-users", "List users").ex("cec idm list-users"),
    cmd("idm list-workspaces", "List workspaces").ex("cec idm list-workspaces"),
    cmd("info", "Display the active connection's info: user, server and authentication type")
        .long("Shows the user, server URL and authentication type of the active account (or of the\n--url/--token flags), and the server version when the server tells it.")
        .ex("cec info"),
    group("jobs", "Manage jobs")
        .long("Lists and deletes server jobs (administrator rights needed for other users' jobs).")
        .ex("cec jobs get\ncec jobs get --format json"),
    cmd("jobs delete", "Delete jobs")
        .long("Deletes the jobs selected by --filter or --job-id (system jobs only one at a time, with\nconfirmation or --force; this API exists in Cells Enterprise only).")
        .ex("cec jobs delete --filter '{\"task_status\":{\"op\":\"eq\",\"value\":\"Error\"}}' --dry-run
cec jobs delete --job-id <id> --force")
        .flags(JOBS_DELETE_FLAGS),
    cmd("jobs get", "Query and list existing jobs")
        .long("Filter fields: owner, numtasks, task_status; operators eq/==, ne/!= and, for numbers, gt/>, lt/<.")
        .ex("cec jobs get
cec jobs get --filter '{\"owner\":{\"op\":\"eq\",\"value\":\"admin\"}}' --format json
cec jobs get --filter '{\"numtasks\":{\"op\":\"gt\",\"value\":10}}'")
        .flags(JOBS_GET_FLAGS),
    cmd("ls", "List files in your Cells server")
        .args("[PATH]", 0, 1)
        .comp(Complete::Remote)
        .long("Lists the workspaces (no PATH), the children of a folder, or a file's own entry.
PATH is <workspace>/<path inside the workspace>; leading and trailing '/' are ignored.
At most one of --details, --raw, --exists, --format, --json.
--raw, --format and --json print the children of a folder (not the folder itself).
--json prints one object per line: {\"type\":\"file|folder|workspace|cell\",\"uuid\":..,\"name\":..,
\"path\":\"<ws>/<path>\",\"size\":<bytes>,\"mtime\":<unix seconds>,\"hash\":..} (null when unknown);
workspaces also carry label, description and permissions.
When stdout is not a terminal, tables are printed as tab-separated rows without borders.")
        .ex("cec ls
cec ls common-files
cec ls -d common-files/photos
cec ls --raw common-files
cec ls --exists common-files/report.pdf && echo present
cec ls --format '{{.Name}} {{.SizeBytes}}' common-files
cec ls --json common-files | jq -r .path")
        .flags(LS_FLAGS),
    group("meta", "Metadata commands")
        .long("Reads and writes user metadata (namespaces defined on the server) of remote nodes.")
        .ex("cec meta get -p common-files/report.pdf"),
    cmd("meta get", "Get node's metadata")
        .ex("cec meta get -p common-files/report.pdf
cec meta get -p common-files/report.pdf -n usermeta-tags --format json
cec meta get --all")
        .flags(META_GET_FLAGS),
    cmd("meta set", "Set specific metadata for node")
        .long("Updates or deletes one metadata value. Give exactly one value flag matching the namespace\ntype (-s, -j, -r or -b) for update.")
        .ex("cec meta set -p common-files/report.pdf -o update -n usermeta-tags -s urgent
cec meta set -p common-files/report.pdf -o update -n usermeta-stars -r 4
cec meta set -p common-files/report.pdf -o delete -n usermeta-tags -s urgent")
        .flags(META_SET_FLAGS),
    cmd("mkdir", "Create folder(s) in the remote server")
        .args("PATH...", 1, usize::MAX)
        .comp(Complete::Remote)
        .long("Creates each folder and its missing parents; an existing folder is reported, not recreated.\nPATH starts with a workspace, e.g. common-files/new/folder.")
        .ex("cec mkdir common-files/projects/2024\ncec mkdir personal-files/a personal-files/b")
        .flags(MKDIR_FLAGS),
    cmd("mv", "Move and/or rename nodes on the server")
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
    cmd("scp", "Copy files from/to Cells")
        .args("SOURCE TARGET", 2, 2)
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
CEC_PART_SIZE=100.")
        .ex("# Upload a file or a folder into a remote folder
cec scp ./report.pdf cells://common-files/
cec scp ./photos cells://personal-files/backup

# Download, replacing/merging existing local items
cec scp cells://common-files/photos ~/Pictures
cec scp --force cells://common-files/report.pdf ./report.pdf

# Big files: larger parts, more parallel parts, plain logs for cron
cec scp --part-size 100 --parts-concurrency 6 --no-progress ./disk.img cells://common-files/")
        .flags(SCP_FLAGS),
    cmd("share", "Share a single file or folder")
        .args("PATH", 1, 1)
        .comp(Complete::Remote)
        .long("Creates a public link (download and preview) for a remote file or folder and prints its URL on stdout.")
        .ex("cec share common-files/report.pdf
cec share common-files/photos --expire-days 7 --max-downloads 20
cec share common-files/report.pdf --password 's3cret'")
        .flags(SHARE_FLAGS),
    group("storage", "Datasource commands")
        .long("Lists datasources and launches resynchronisations (administrator rights needed).")
        .ex("cec storage list-datasources"),
    cmd("storage list-datasources", "List configured datasources")
        .ex("cec storage list-datasources\ncec storage list-datasources --raw")
        .flags(LIST_DS_FLAGS),
    cmd("storage resync-ds", "Launch a resync")
        .args("DSNAME", 1, 1)
        .ex("cec storage resync-ds pydiods1"),
    group("tools", "Additional tools")
        .hide()
        .ex("cec tools hash -f ./file.bin\ncec tools version isgreater 4.3.1 4.2.0"),
    cmd("tools hash", "Compute the hash of a local file using the same algorithm as the one used by the Cells Server")
        .long("Cells' internal hash: MD5 of the concatenation of the MD5s of the 10 MiB blocks of the file.")
        .ex("cec tools hash -f ./file.bin\ncec tools hash -f ./file.bin --raw")
        .flags(HASH_FLAGS),
    group("tools version", "Version helpers")
        .ex("cec tools version isvalid 4.3.1\ncec tools version isgreater 4.3.1 4.3.1-rc1"),
    cmd("tools version isgreater", "Compare the two versions, succeed when the first is greater than the second")
        .args("V1 V2", 2, 2)
        .ex("cec tools version isgreater 4.3.1 4.1.1-dev.20240425\ncec tools version isgreater -q 4.0.0 4.1.0")
        .flags(QUIET_FLAGS),
    cmd("tools version isrelease", "Check if a given string represents a valid **RELEASE** version")
        .args("VERSION", 1, 1)
        .ex("cec tools version isrelease 4.3.1\ncec tools version isrelease -q 4.3.1-rc1")
        .flags(QUIET_FLAGS),
    cmd("tools version isvalid", "Check if a given string represents a valid version")
        .args("VERSION", 1, 1)
        .ex("cec tools version isvalid 4.1.1-dev.20240425\ncec tools version isvalid -q foo")
        .flags(QUIET_FLAGS),
    cmd("update", "Check for available updates and apply them")
        .long("Lists the newer versions offered by the update server; with --version, downloads that
version, checks its size, checksum and signature, runs it once, keeps the current binary in
the configuration folder and replaces the running binary atomically. --rollback puts the
kept binary back. A build without an update server says so (see README, Updating).")
        .ex("cec update\ncec update --version 4.3.2\ncec update --dev\ncec update --rollback")
        .flags(UPDATE_FLAGS),
    cmd("version", "Show Cells Client version information")
        .long("Prints the version, build time, git commit, OS/architecture and Rust version.\nWith --format, prints a template with the fields {{.Version}}, {{.Built}}, {{.GitCommit}},\n{{.OS}}, {{.Arch}} and {{.RustVersion}}, without an added newline.")
        .ex("cec version\ncec version -f '{{.Version}}'\ncec --version")
        .flags(VERSION_FLAGS),
    cmd("version isgreater", "[Deprecated] Rather use 'cec tools version isgreater'")
        .hide()
        .args("V1 V2", 2, 2)
        .flags(QUIET_FLAGS),
    cmd("version isrelease", "[Deprecated] Rather use 'cec tools version isrelease'")
        .hide()
        .args("VERSION", 1, 1)
        .flags(QUIET_FLAGS),
    cmd("version isvalid", "[Deprecated] Rather use 'cec tools version isvalid'")
        .hide()
        .args("VERSION", 1, 1)
        .flags(QUIET_FLAGS),
];
