//! Blocking S3 client for the Cells gateway (PROTOCOL §6).
#![allow(dead_code)]
pub mod sign;
