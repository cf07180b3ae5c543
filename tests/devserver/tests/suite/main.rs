//! The dev server's own tests, one binary with a module per front. Each test
//! starts its own `cells-devserver` on port 0 with a private root.

mod support;

mod oauth_flow;
mod rest;
mod s3_gateway;
mod update_server;
