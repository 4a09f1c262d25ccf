//! The moka caching crate: the shared caching suites in virtual time, and the moka storages.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod introspection_suite;
mod storage;
mod suite;
