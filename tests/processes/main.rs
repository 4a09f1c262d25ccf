//! Tests that run parts of themselves in child processes of this binary: proxy settings
//! read from the environment, and a fleet of replicas sharing one token through Redis.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod fleet_redis;
mod processes;
