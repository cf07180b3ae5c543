//! File transfers (scp): plan, compare, execute, verify, resume, progress.
#![allow(dead_code)]
