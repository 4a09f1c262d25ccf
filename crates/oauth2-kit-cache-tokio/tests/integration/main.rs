//! The tokio caching crate: the shared caching suites in virtual time, the binding itself, and
//! the fresh path's allocations (this binary counts them, per thread).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod fresh_path;
mod introspection_suite;
mod runtime;
mod suite;
