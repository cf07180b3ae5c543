//! The definition of every flag (the mechanism is in `cli::flags`): one static
//! per flag, grouped by the commands that take it.

use super::*;
use crate::cli::types::{LinkPassword, MetaOp, TableFormat};
use crate::output::log::LogLevel;
use std::time::Duration;

const fn flag(long: &'static str, short: Option<char>, help: &'static str, takes: Takes) -> Flag {
    Flag {
        long,
        short,
        help,
        takes,
        env: None,
        default: None,
        aliases: &[],
        hidden: false,
        required: false,
        repeat: false,
        complete: Complete::Nothing,
    }
}

/// A switch.
const fn sw(
    long: &'static str,
    short: Option<char>,
    help: &'static str,
    set: fn(&mut Values, bool),
) -> Flag {
    flag(long, short, help, Takes::Switch(set))
}

/// A flag taking a value.
const fn val(
    long: &'static str,
    short: Option<char>,
    placeholder: &'static str,
    help: &'static str,
    parse: &'static dyn Parse,
) -> Flag {
    flag(long, short, help, Takes::Value(placeholder, parse))
}

impl Flag {
    const fn env(mut self, name: &'static str) -> Self {
        self.env = Some(name);
        self
    }
    const fn def(mut self, d: &'static str) -> Self {
        self.default = Some(d);
        self
    }
    const fn aka(mut self, aliases: &'static [Alias]) -> Self {
        self.aliases = aliases;
        self
    }
    const fn hide(mut self) -> Self {
        self.hidden = true;
        self
    }
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    const fn repeat(mut self) -> Self {
        self.repeat = true;
        self
    }
    const fn comp(mut self, c: Complete) -> Self {
        self.complete = c;
        self
    }
}

/// A hidden legacy spelling.
const fn legacy(name: &'static str) -> Alias {
    Alias { name, shown: false }
}

const TABLE_OR_JSON: Choice<TableFormat> = Choice {
    words: &[("table", TableFormat::Table), ("json", TableFormat::Json)],
    fold: false,
    set: |v, f| v.table_format = f,
};

/// Fields of `ls --format` templates (the reference's names).
pub const LS_FIELDS: &[&str] = &[
    "Type",
    "Uuid",
    "Name",
    "Path",
    "HumanSize",
    "SizeBytes",
    "TimeStamp",
    "Date",
    "Hash",
];

/// Fields of `version --format` templates (`commands::version::fields`): the reference's,
/// plus `Built` and `RustVersion`.
pub const VERSION_FIELDS: &[&str] = &[
    "PackageLabel",
    "Version",
    "Built",
    "GitCommit",
    "GitTime",
    "OS",
    "Arch",
    "RustVersion",
    "GoVersion",
];

// global

pub static URL: Flag = val(
    "url",
    Some('u'),
    "URL",
    "Server URL, e.g. https://cells.example.com (env/flag mode)",
    &UrlArg(|v, u| v.url = Some(u)),
)
.env("CEC_URL");
pub static TOKEN: Flag = val(
    "token",
    Some('t'),
    "TOKEN",
    "Personal Access Token (env/flag mode; prefer CEC_TOKEN to keep it out of the process list)",
    &Opt(|v, s| v.token = Some(s)),
)
.env("CEC_TOKEN");
pub static LOGIN: Flag = val(
    "login",
    None,
    "LOGIN",
    "User login for login/password (client-auth) mode",
    &Opt(|v, s| v.login = Some(s)),
)
.env("CEC_LOGIN");
pub static PASSWORD: Flag = val(
    "password",
    None,
    "PASSWORD",
    "User password for client-auth mode (prefer CEC_PASSWORD)",
    &Opt(|v, s| v.password = Some(s)),
)
.env("CEC_PASSWORD");
pub static SKIP_VERIFY: Flag = sw(
    "skip-verify",
    None,
    "Skip TLS certificate verification (unsafe)",
    |v, b| v.skip_verify = Some(b),
)
.env("CEC_SKIP_VERIFY")
.aka(&[legacy("skip_verify")]);
pub static SKIP_KEYRING: Flag = sw(
    "skip-keyring",
    None,
    "Never use the OS keyring; secrets are stored in config.json (mode 0600)",
    |v, b| v.skip_keyring = b,
)
.env("CEC_SKIP_KEYRING")
.aka(&[legacy("skip_keyring")]);
pub static NO_CACHE: Flag = sw(
    "no-cache",
    None,
    "Do not cache the session token (client-auth env/flag mode)",
    |v, b| v.no_cache = b,
)
.env("CEC_NO_CACHE")
.aka(&[legacy("no_cache")]);
pub static CONFIG: Flag = val(
    "config",
    None,
    "DIR",
    "Directory holding config.json (default ~/.config/pydio/cells-client)",
    &PathArg(|v, p| v.config_dir = Some(p)),
)
.env("CEC_CONFIG")
.comp(Complete::Dirs);
pub static LOG: Flag = val(
    "log",
    None,
    "LEVEL",
    "Log level on stderr",
    &Choice {
        words: &[
            ("debug", LogLevel::Debug),
            ("info", LogLevel::Info),
            ("warn", LogLevel::Warn),
            ("warning", LogLevel::Warn),
            ("error", LogLevel::Error),
        ],
        fold: true,
        set: |v, l| v.log = l,
    },
)
.env("CEC_LOG")
.def("info");

/// Root flags, accepted anywhere on the command line.
pub static GLOBAL_FLAGS: &[&Flag] = &[
    &URL,
    &TOKEN,
    &LOGIN,
    &PASSWORD,
    &SKIP_VERIFY,
    &SKIP_KEYRING,
    &NO_CACHE,
    &CONFIG,
    &LOG,
];

/// `-h/--help`, accepted by every command (listed in help, handled by the parser).
pub static HELP: Flag = sw("help", Some('h'), "Show help for this command", |_, _| {});
/// `--version`, root only (handled by the parser).
pub static VERSION: Flag = sw("version", None, "Show version information", |_, _| {});

// clear, config rm

pub static FORCE_CONFIRM: Flag = sw("force", Some('f'), "Do not ask for confirmation", |v, b| {
    v.force = b
});

// config add oauth, config relog

pub static ID_TOKEN: Flag = val("id-token", None, "TOKEN", "Store this currently valid OAuth access token instead of running the browser flow (no refresh token: the account stops working when it expires)", &Opt(|v, s| v.id_token = Some(s)))
    .aka(&[legacy("id_token")]);
const PORT: Num<u16> = Num {
    min: 1,
    max: u16::MAX,
    step: None,
    set: |v, n| v.port = n,
};
const LOGIN_TIMEOUT: Num<u64> = Num {
    min: 1,
    max: 86_400,
    step: None,
    set: |v, n| v.login_timeout = Duration::from_secs(n),
};
pub static OAUTH_PORT: Flag = val(
    "port",
    None,
    "PORT",
    "Local port of the OAuth callback server on 127.0.0.1",
    &PORT,
)
.def("3000");
pub static NO_PKCE: Flag = sw(
    "no-pkce",
    None,
    "Do not send a PKCE challenge (for servers that reject it)",
    |v, b| v.no_pkce = b,
);
pub static NO_BROWSER: Flag = sw(
    "no-browser",
    None,
    "Do not open a browser: print the URL and paste the code shown by the server",
    |v, b| v.no_browser = b,
);
pub static OAUTH_TIMEOUT: Flag = val(
    "timeout",
    None,
    "SECS",
    "Give up waiting for the browser login after SECS seconds",
    &LOGIN_TIMEOUT,
)
.def("300");
pub static RELOG_PORT: Flag = val(
    "port",
    None,
    "PORT",
    "Local port of the OAuth callback server on 127.0.0.1 (OAuth accounts)",
    &PORT,
)
.def("3000");
pub static RELOG_NO_PKCE: Flag = sw(
    "no-pkce",
    None,
    "Do not send a PKCE challenge (OAuth accounts)",
    |v, b| v.no_pkce = b,
);
pub static RELOG_NO_BROWSER: Flag = sw(
    "no-browser",
    None,
    "Do not open a browser: print the URL and paste the code (OAuth accounts)",
    |v, b| v.no_browser = b,
);

// cp, mv

pub static FORCE_REPLACE: Flag = sw(
    "force",
    Some('f'),
    "Replace an existing target file instead of refusing",
    |v, b| v.force = b,
);
pub static JOB_TIMEOUT: Flag = val(
    "timeout",
    None,
    "SECS",
    "Give up waiting for the server job after SECS seconds",
    &Num {
        min: 1u64,
        max: 30 * 86_400,
        step: None,
        set: |v, n| v.job_timeout = Duration::from_secs(n),
    },
)
.def("3600");

// doc

pub static DOC_PATH: Flag = val(
    "path",
    Some('p'),
    "DIR",
    "Directory where the files are written (required)",
    &PathArg(|v, p| v.doc_dir = Some(p)),
)
.required()
.comp(Complete::Dirs);
pub static MENU: Flag = val(
    "menu",
    Some('m'),
    "MENU",
    "Menu name written in the YAML files",
    &Text(|v, s| v.menu = s),
)
.def("menu-admin-guide-v7");

// idm list-acls

pub static UUID: Flag = val(
    "uuid",
    Some('n'),
    "UUID",
    "Node UUID (repeatable, or comma-separated)",
    &Text(|v, s| {
        v.uuids.extend(
            s.split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(String::from),
        )
    }),
)
.repeat();
pub static DELETE: Flag = sw(
    "delete",
    None,
    "Delete the listed ACLs (asks for confirmation)",
    |v, b| v.delete = b,
);

pub static FORCE_ACLS: Flag = sw(
    "force",
    Some('f'),
    "Delete without asking (required with --delete when stdin is not a terminal)",
    |v, b| v.force = b,
);

/// `--json` of the list commands (`idm list-*`, `storage list-datasources`, `jobs get`,
/// `config ls`).
pub static LIST_JSON: Flag = sw(
    "json",
    None,
    "One JSON object per line (for scripts)",
    |v, b| v.json = b,
);

/// `--json` of the commands that print one result (`version`, `info`, `share`, `tools hash`).
pub static JSON_OBJECT: Flag = sw(
    "json",
    None,
    "Print the result as one JSON object (for scripts)",
    |v, b| v.json = b,
);

// jobs

/// `jobs get --format`: no default, so that giving it with `--json` can be refused.
pub static JOBS_GET_FORMAT: Flag = val(
    "format",
    None,
    "FORMAT",
    "Output format: table (the default) or json",
    &Choice {
        words: &[("table", TableFormat::Table), ("json", TableFormat::Json)],
        fold: false,
        set: |v, f| v.jobs_get_format = Some(f),
    },
);
pub static JOBS_FORMAT: Flag =
    val("format", None, "FORMAT", "Output format", &TABLE_OR_JSON).def("table");
pub static FILTER_OWNER: Flag = val(
    "filter",
    None,
    "JSON",
    "Filter, e.g. '{\"owner\":{\"op\":\"eq\",\"value\":\"admin\"}}'",
    &Json {
        object: true,
        set: |v, s| v.filter = Some(s),
    },
);
pub static FILTER_STATUS: Flag = val(
    "filter",
    None,
    "JSON",
    "Filter, e.g. '{\"task_status\":{\"op\":\"eq\",\"value\":\"Error\"}}'",
    &Json {
        object: true,
        set: |v, s| v.filter = Some(s),
    },
);
pub static JOB_ID: Flag = val(
    "job-id",
    None,
    "ID",
    "Delete this job",
    &Opt(|v, s| v.job_id = Some(s)),
);
pub static FORCE_SYSTEM: Flag = sw(
    "force",
    None,
    "Do not ask for confirmation (needed to delete a system job)",
    |v, b| v.force = b,
);
pub static DRY_RUN: Flag = sw(
    "dry-run",
    None,
    "Show what would be deleted, delete nothing",
    |v, b| v.dry_run = b,
);

// ls

pub static DETAILS: Flag = sw(
    "details",
    Some('d'),
    "Detailed table: type, uuid, name, size, modification date, internal hash",
    |v, b| v.details = b,
);
pub static RAW_PATHS: Flag = sw(
    "raw",
    Some('r'),
    "One full path per line, folders end with '/'",
    |v, b| v.raw = b,
);
pub static EXISTS: Flag = sw(
    "exists",
    Some('f'),
    "Print true or false and exit 0 if PATH exists, 4 if not",
    |v, b| v.exists = b,
);
pub static LS_FORMAT: Flag = val("format", None, "TEMPLATE", "Print each node with a template: {{.Type}} {{.Uuid}} {{.Name}} {{.Path}} {{.HumanSize}} {{.SizeBytes}} {{.TimeStamp}} {{.Date}} {{.Hash}}", &Tpl { fields: LS_FIELDS, set: |v, t| v.ls_format = Some(t) });
pub static RECURSIVE: Flag = sw(
    "recursive",
    Some('R'),
    "List the whole tree below PATH (with --raw or --json: full paths)",
    |v, b| v.recursive = b,
);
pub static JSON: Flag = sw(
    "json",
    None,
    "One JSON object per line and node (for scripts)",
    |v, b| v.json = b,
);

// meta

pub static META_PATH: Flag = val(
    "path",
    Some('p'),
    "PATH",
    "Remote node path",
    &Opt(|v, s| v.meta_path = Some(s)),
)
.comp(Complete::Remote);
pub static META_FORMAT: Flag = val(
    "format",
    Some('f'),
    "FORMAT",
    "Output format",
    &TABLE_OR_JSON,
)
.def("table");
pub static ALL: Flag = sw(
    "all",
    Some('a'),
    "List the user-meta namespaces instead",
    |v, b| v.all = b,
);
pub static ONLY_NAMESPACE: Flag = val(
    "namespace",
    Some('n'),
    "NS",
    "Only show this namespace",
    &Opt(|v, s| v.namespace = Some(s)),
);
pub static OPERATION: Flag = val(
    "operation",
    Some('o'),
    "OP",
    "Operation",
    &Choice {
        words: &[("update", MetaOp::Update), ("delete", MetaOp::Delete)],
        fold: false,
        set: |v, o| v.operation = Some(o),
    },
)
.required();
pub static NAMESPACE: Flag = val(
    "namespace",
    Some('n'),
    "NS",
    "Metadata namespace",
    &Opt(|v, s| v.namespace = Some(s)),
)
.required();
pub static STRING_VALUE: Flag = val(
    "string-value",
    Some('s'),
    "TEXT",
    "Value for string, textarea, choice, tags, date and css_label namespaces",
    &Text(|v, s| v.string_value = Some(s)),
);
pub static JSON_VALUE: Flag = val(
    "json-value",
    Some('j'),
    "JSON",
    "Value for json namespaces",
    &Json {
        object: false,
        set: |v, s| v.json_value = Some(s),
    },
);
pub static NUMERIC_VALUE: Flag = val(
    "numeric-value",
    Some('r'),
    "N",
    "Value for integer and stars_rate namespaces",
    &Num {
        min: i64::MIN,
        max: i64::MAX,
        step: None,
        set: |v, n| v.numeric_value = Some(n),
    },
);
pub static BOOLEAN_VALUE: Flag = sw(
    "boolean-value",
    Some('b'),
    "Value true for boolean namespaces (--boolean-value=false for false)",
    |v, b| v.boolean_value = Some(b),
);

// mkdir, rm

/// Accepted and ignored: parents are always created.
pub static PARENTS: Flag = sw(
    "parents",
    Some('p'),
    "Create missing parent folders (always done; kept for compatibility)",
    |_, _| {},
);
pub static FORCE_RM: Flag = sw(
    "force",
    Some('f'),
    "Do not ask for confirmation (required when stdin is not a terminal)",
    |v, b| v.force = b,
);
pub static PERMANENTLY: Flag = sw(
    "permanently",
    Some('p'),
    "Delete definitively instead of moving to the recycle bin",
    |v, b| v.permanently = b,
);

// share

pub static LINK_PASSWORD: Flag = val("password", None, "PASSWORD", "Protect the link with a password (other users can read it in the process list: prefer --ask-password, --password-file or CEC_LINK_PASSWORD; the global --password must then come before 'share')", &Secret(|v, s, from| {
    v.link_password = Some(match from {
        Origin::Env => LinkPassword::Env(s),
        _ => LinkPassword::Argv(s),
    })
}))
.env("CEC_LINK_PASSWORD")
.aka(&[Alias { name: "link-password", shown: true }]);
pub static PASSWORD_FILE: Flag = val(
    "password-file",
    None,
    "FILE",
    "Protect the link with the password in the first line of FILE",
    &PathArg(|v, p| v.password_file = Some(p)),
)
.comp(Complete::Files);
pub static ASK_PASSWORD: Flag = sw(
    "ask-password",
    None,
    "Protect the link with a password typed on the terminal (not echoed)",
    |v, b| v.ask_password = b,
);
pub static EXPIRE_DAYS: Flag = val(
    "expire-days",
    None,
    "DAYS",
    "The link expires after DAYS days",
    &Num {
        min: 1u32,
        max: 36_500,
        step: None,
        set: |v, n| v.expire_days = Some(n),
    },
);
pub static MAX_DOWNLOADS: Flag = val(
    "max-downloads",
    None,
    "N",
    "The link stops working after N downloads",
    &Num {
        min: 1u32,
        max: u32::MAX,
        step: None,
        set: |v, n| v.max_downloads = Some(n),
    },
);

// scp

pub static FORCE_SCP: Flag = sw(
    "force",
    Some('f'),
    "Overwrite existing files and merge into existing folders",
    |v, b| v.force = b,
)
.env("CEC_FORCE");
pub static NO_PROGRESS: Flag = sw(
    "no-progress",
    Some('n'),
    "No live progress display; one log line per file instead",
    |v, b| v.no_progress = b,
)
.env("CEC_NO_PROGRESS")
.aka(&[legacy("no_progress")]);
pub static VERBOSE: Flag = sw(
    "verbose",
    Some('v'),
    "Log each transfer (implies --no-progress)",
    |v, b| v.verbose = b,
)
.env("CEC_VERBOSE");
pub static VERY_VERBOSE: Flag = sw(
    "very-verbose",
    Some('w'),
    "Debug logs (implies --no-progress)",
    |v, b| v.very_verbose = b,
)
.env("CEC_VERY_VERBOSE")
.aka(&[legacy("very_verbose")]);
pub static QUIET_PROGRESS: Flag = sw(
    "quiet",
    Some('q'),
    "Refresh the progress display every 3 seconds only",
    |v, b| v.quiet = b,
)
.env("CEC_QUIET");
pub static PART_SIZE: Flag = val(
    "part-size",
    None,
    "MIB",
    "Multipart part size in MiB, a multiple of 10",
    &Num {
        min: 10u64,
        max: 5 * 1024,
        step: Some(10),
        set: |v, n| v.part_size_mib = n,
    },
)
.env("CEC_PART_SIZE")
.def("50")
.aka(&[legacy("part_size")]);
pub static PARTS_CONCURRENCY: Flag = val(
    "parts-concurrency",
    None,
    "N",
    "Parts of one file uploaded in parallel",
    &Num {
        min: 1usize,
        max: 64,
        step: None,
        set: |v, n| v.parts_concurrency = n,
    },
)
.env("CEC_PARTS_CONCURRENCY")
.def("3")
.aka(&[legacy("parts_concurrency")]);
pub static FILES_CONCURRENCY: Flag = val(
    "files-concurrency",
    None,
    "N",
    "Files transferred in parallel",
    &Num {
        min: 1usize,
        max: 64,
        step: None,
        set: |v, n| v.files_concurrency = n,
    },
)
.env("CEC_FILES_CONCURRENCY")
// 8, not the reference's fixed 3: small files are bound by round trips; six
// lanes sent a 2,000-file tree 10-20 % faster each way than three, eight
// downloaded it another 10 % faster over HTTPS (make bench, tree runs), for
// about 0.3 MiB of memory per lane (docs/compatibility.md §5.6).
.def("8");
pub static MULTIPART_THRESHOLD: Flag = val(
    "multipart-threshold",
    None,
    "MIB",
    "Files larger than MIB MiB use multipart uploads",
    &Num {
        min: 0u64,
        max: 5 * 1024 * 1024,
        step: None,
        set: |v, n| v.multipart_threshold_mib = n,
    },
)
.env("CEC_MULTIPART_THRESHOLD")
.def("100")
.aka(&[legacy("multipart_threshold")]);
pub static MAX_PARTS_NUMBER: Flag = val(
    "max-parts-number",
    None,
    "N",
    "Maximum number of parts of a multipart upload",
    &Num {
        min: 1u64,
        max: 10_000,
        step: None,
        set: |v, n| v.max_parts_number = n,
    },
)
.env("CEC_MAX_PARTS_NUMBER")
.def("5000")
.aka(&[legacy("max_parts_number")]);
pub static RETRY_MAX_ATTEMPTS: Flag = val(
    "retry-max-attempts",
    None,
    "N",
    "Attempts per request on transient errors (0: up to 100)",
    &Num {
        min: 0u32,
        max: 100,
        step: None,
        set: |v, n| v.retry_max_attempts = n,
    },
)
.env("CEC_RETRY_MAX_ATTEMPTS")
.def("3")
.aka(&[legacy("retry_max_attempts")]);
pub static RETRY_MAX_BACKOFF: Flag = val(
    "retry-max-backoff",
    None,
    "DURATION",
    "Maximum pause between attempts, e.g. 3s, 500ms, 1m",
    &Dur(|v, d| v.retry_max_backoff = d),
)
.env("CEC_RETRY_MAX_BACKOFF")
.def("3s")
.aka(&[legacy("retry_max_backoff")]);
pub static MULTIPART_DEBUG_FLAGS: Flag = val(
    "multipart-debug-flags",
    None,
    "FLAGS",
    "Accepted for compatibility (S3 SDK log categories); use --very-verbose",
    &Ignored(&[
        "signing",
        "retries",
        "request",
        "request_with_body",
        "response",
        "response_with_body",
        "deprecated_usage",
        "request_event_message",
        "response_event_message",
    ]),
)
.env("CEC_MULTIPART_DEBUG_FLAGS")
.hide();
pub static SKIP_MD5: Flag = sw(
    "skip-md5",
    None,
    "Skip the content check against the server hash (size is still checked)",
    |v, b| v.skip_md5 = b,
)
.env("CEC_SKIP_MD5")
.aka(&[legacy("skip_md5")]);
pub static FOLLOW_LINKS: Flag = sw(
    "follow-links",
    None,
    "Follow symbolic links when uploading (default: skip them)",
    |v, b| v.follow_links = b,
)
.env("CEC_FOLLOW_LINKS");
pub static FAIL_FAST: Flag = sw(
    "fail-fast",
    None,
    "Stop at the first failed file",
    |v, b| v.fail_fast = b,
)
.env("CEC_FAIL_FAST");

pub static PARENTS_SCP: Flag = sw(
    "parents",
    Some('p'),
    "Create the target folder (and its parents) when it does not exist",
    |v, b| v.parents = b,
);
pub static BWLIMIT: Flag = val(
    "bwlimit",
    None,
    "RATE",
    "Limit the bandwidth of all transfers together, e.g. 500K, 10M (bytes per second)",
    &Rate(|v, r| v.bwlimit = r),
)
.env("CEC_BWLIMIT");

// sync

pub static DELETE_SYNC: Flag = sw(
    "delete",
    None,
    "Delete what the source no longer has (remote: to the recycle bin; local: only inside TARGET)",
    |v, b| v.sync_delete = b,
);
pub static CHECKSUM: Flag = sw(
    "checksum",
    Some('c'),
    "Compare sizes and content hashes (the server's hash: nothing is downloaded) instead of sizes and times",
    |v, b| v.checksum = b,
);
pub static SIZE_ONLY: Flag = sw("size-only", None, "Compare sizes only", |v, b| {
    v.size_only = b
});
pub static DRY_RUN_SYNC: Flag = sw(
    "dry-run",
    None,
    "Print what would be done, change nothing",
    |v, b| v.dry_run = b,
);
pub static JSON_SYNC: Flag = sw(
    "json",
    None,
    "JSON lines on stdout: one per action, then the summary (for scripts)",
    |v, b| v.json = b,
);
pub static INCLUDE: Flag = val(
    "include",
    None,
    "GLOB",
    "Sync only what matches (repeatable; rules apply in order, the first match wins)",
    &Rule(FilterAction::Include),
)
.repeat();
pub static EXCLUDE: Flag = val(
    "exclude",
    None,
    "GLOB",
    "Leave out what matches (repeatable; rules apply in order, the first match wins)",
    &Rule(FilterAction::Exclude),
)
.repeat();
pub static MAX_AGE: Flag = val(
    "max-age",
    None,
    "AGE",
    "Only files modified within AGE, e.g. 7d, 12h",
    &Age(|v, d| v.max_age = Some(d)),
);

// storage list-datasources, tools hash, tools version

pub static RESYNC_TIMEOUT: Flag = val(
    "timeout",
    None,
    "SECS",
    "Give up waiting for the resync job after SECS seconds (it goes on on the server)",
    &Num {
        min: 1u64,
        max: 30 * 86_400,
        step: None,
        set: |v, n| v.job_timeout = Duration::from_secs(n),
    },
)
.def("3600");
pub static RAW_NAMES: Flag = sw("raw", Some('r'), "Names only, one per line", |v, b| {
    v.raw = b
});
pub static FILE: Flag = val(
    "file",
    Some('f'),
    "FILE",
    "Local file to hash (required)",
    &PathArg(|v, p| v.file = Some(p)),
)
.required()
.comp(Complete::Files);
pub static RAW_HASH: Flag = sw("raw", Some('r'), "Print only the hash", |v, b| v.raw = b);
pub static QUIET_VERDICT: Flag = sw(
    "quiet",
    Some('q'),
    "Print 1 or 0 and exit 0 instead of failing",
    |v, b| v.quiet = b,
);

// update

pub static UPDATE_VERSION: Flag = val(
    "version",
    Some('v'),
    "VERSION",
    "Install this exact version",
    &Opt(|v, s| v.update_version = Some(s)),
);
pub static DRY_RUN_UPDATE: Flag = sw(
    "dry_run",
    Some('d'),
    "Download, verify and try the new binary (or the kept one, with --rollback), replace nothing",
    |v, b| v.dry_run = b,
)
.aka(&[Alias {
    name: "dry-run",
    shown: false,
}]);
pub static DEV: Flag = sw(
    "dev",
    None,
    "Use the dev channel instead of stable",
    |v, b| v.dev = b,
);
pub static ROLLBACK: Flag = sw(
    "rollback",
    None,
    "Put back the binary that the last update replaced",
    |v, b| v.rollback = b,
);

// version

pub static VERSION_FORMAT: Flag = val("format", Some('f'), "TEMPLATE", "Print with a template (fields .PackageLabel .Version .Built .GitCommit .GitTime .OS .Arch .RustVersion .GoVersion)", &Tpl { fields: VERSION_FIELDS, set: |v, t| v.version_format = Some(t) });
