//! The `oauth2-kit` binary, end to end: against the embedded testkit server and against
//! oidc-provider (a real authorization server), every command, both output formats, each exit
//! code, and no secret in any output unless asked for.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod config;
mod leak;
mod login;
mod oidc_provider;
mod terminal;
mod testkit;

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Output, Stdio};

/// The binary, with nothing inherited from the environment that could change what it does.
pub(crate) fn bin() -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("oauth2-kit"));
    command.env_clear();
    command
}

/// Runs `command` with `stdin` on its standard input.
pub(crate) fn run(command: &mut Command, stdin: &str) -> Output {
    use std::io::Write as _;
    let mut child =
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // A command that ends before reading its input (a usage error) closes the pipe: not a
    // failure of the test.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

/// The bytes as text.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts that none of `secrets` is in the run's stdout or stderr.
pub(crate) fn no_secret(output: &Output, secrets: &[&str]) {
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    for secret in secrets {
        assert!(!all.contains(secret), "a secret in the output: {all}");
    }
}

/// The parsed JSON of a successful run's standard output.
pub(crate) fn json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{:?}: {}", output.status, text(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `command` started with its standard output and error piped, and its standard error to read.
pub(crate) fn spawn(command: &mut Command) -> (Child, Stderr) {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = Stderr::of(&mut child);
    (child, stderr)
}

/// `oauth2-kit testkit` on a free port with `args`, running; and what it printed (one JSON
/// object).
pub(crate) fn testkit_server(args: &[&str]) -> (Child, serde_json::Value) {
    let (mut child, stderr) = spawn(bin().args(["testkit", "--port", "0", "--output", "json"]).args(args));
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    if line.is_empty() {
        child.wait().unwrap();
        panic!("testkit printed nothing: {}", stderr.rest());
    }
    (child, serde_json::from_str(&line).unwrap())
}

/// Ends a child that serves until interrupted.
pub(crate) fn stop(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Standard error of a running child, line by line: the lines read so far are kept.
pub(crate) struct Stderr {
    lines: BufReader<std::process::ChildStderr>,
    /// Every line read.
    pub(crate) seen: String,
}

impl Stderr {
    /// The standard error of `child` (piped).
    pub(crate) fn of(child: &mut Child) -> Self {
        Self { lines: BufReader::new(child.stderr.take().unwrap()), seen: String::new() }
    }

    /// Reads lines until one satisfies `wanted` (which blocks until the child writes it, or
    /// fails the test at the child's end of output).
    pub(crate) fn line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            let mut line = String::new();
            let read = self.lines.read_line(&mut line).unwrap();
            assert!(read > 0, "the command ended without the line; it said: {}", self.seen);
            self.seen.push_str(&line);
            if wanted(line.trim_end()) {
                return line.trim_end().to_owned();
            }
        }
    }

    /// The rest of standard error, after the child ended.
    pub(crate) fn rest(mut self) -> String {
        let mut rest = String::new();
        self.lines.read_to_string(&mut rest).unwrap();
        self.seen + &rest
    }
}
