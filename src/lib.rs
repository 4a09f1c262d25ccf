//! Workspace-level home of the oauth2-kit examples, integration tests and benchmarks.
//!
//! It also compiles the guide: every page of `docs/` and the README is included here as
//! documentation, so `cargo test --doc` runs their Rust snippets and they cannot rot.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
