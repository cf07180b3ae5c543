//! cec's integration tests, one binary (linked once) with a module per topic.
//! Each module runs the real `cec` binary against real servers (the dev
//! server, hostile test servers, moto, Chromium...) and real files. Run one
//! topic with `cargo test --test suite scp_faults::`.

// Shared harness: servers, the `cec` runner, fixtures.
mod auth_mock;
mod common;
mod hostile;
mod scp_common;
mod sync_common;
mod update_common;

mod accounts_config;
mod accounts_keyring;
mod accounts_tty;
mod admin_hostile;
mod admin_idm;
mod admin_jobs;
mod admin_meta;
mod auth_browser;
mod auth_devserver;
mod auth_flows;
mod auth_http;
mod auth_soak;
mod cli_bad_input;
mod cli_errors;
mod cli_help;
mod cli_json;
mod cli_signals;
mod completion_shells;
mod fault_matrix;
mod hostile_listings;
mod hostile_replies;
mod infra_harness;
mod remote_big_folder;
mod remote_commands;
mod scp_basic;
mod scp_faults;
mod scp_multipart;
mod scp_progress;
mod scp_resume;
mod scp_sources;
mod scp_streams;
mod scp_trees;
mod sync_basic;
mod sync_hostile;
mod sync_runs;
mod update_install;
mod update_packager;
mod update_refusals;
