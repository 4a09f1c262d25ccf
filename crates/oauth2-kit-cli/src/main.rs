//! `oauth2-kit`: get, inspect and revoke OAuth 2.0 tokens from a terminal or a script, decode
//! and verify JWTs, and run the embedded authorization server for local development. Every
//! protocol step is the `oauth2-kit` library's.

/// Writes a line to standard error: what a person reads while a command runs, and failures. A
/// closed standard error is no reason to fail.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// [`say`] without the line's end (a spinner redrawn in place).
macro_rules! say_part {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut stderr = std::io::stderr();
        let _ = write!(stderr, $($arg)*);
        let _ = stderr.flush();
    }};
}

/// Writes a line of the result to standard output. A reader that has gone (`| head`) is no
/// reason to fail.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod cli;
mod commands;
mod failure;
mod input;
mod login;
mod output;
mod profile;
mod testkit;
mod token;

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};

use crate::cli::{Cli, Command};
use crate::output::Printer;

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if cli.global.verbose {
        use std::io::IsTerminal as _;
        // Colours for a terminal only; a trace that cannot be written (a closed pipe) is
        // dropped, not reported on the same closed stream.
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .log_internal_errors(false)
            .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
            .init();
    }
    let printer = Printer { output: cli.global.output, reveal: cli.global.reveal };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            say!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let readers = cli.command.stdin_readers();
    if readers.len() > 1 {
        let failure = failure::Failure::new(
            failure::Kind::Usage,
            format!("only one thing can come from standard input, not {}", readers.join(" and ")),
        );
        say!("error: {failure}");
        return failure.exit_code();
    }
    if let Err(failure) = apply_profile(&mut cli) {
        say!("error: {failure}");
        return failure.exit_code();
    }
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Token(args) => token::token(args, printer).await,
            Command::Login(args) => login::login(args, printer).await,
            Command::Device(args) => commands::device(args, printer).await,
            Command::Introspect(args) => commands::introspect(args, printer).await,
            Command::Userinfo(args) => commands::userinfo(args, printer).await,
            Command::Revoke(args) => commands::revoke(args, printer).await,
            Command::Discover(args) => commands::discover(args, printer).await,
            Command::Profiles => commands::profiles(printer),
            Command::Jwt(args) => commands::jwt(args, printer).await,
            Command::Testkit(args) => testkit::testkit(args, printer).await,
            Command::Completions { shell } => {
                // Written whole, and a reader that has gone is no reason to fail.
                let mut script = Vec::new();
                clap_complete::generate(*shell, &mut Cli::command(), "oauth2-kit", &mut script);
                out!("{}", String::from_utf8_lossy(&script).trim_end());
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            say!("error: {}", output::printable(&failure.to_string()));
            failure.exit_code()
        }
    }
}

/// Fills the command's options that are not given from the profile (`--profile`, else the
/// configuration file's default). `jwt` takes a profile's issuer only when one is named.
fn apply_profile(cli: &mut Cli) -> Result<(), failure::Failure> {
    let named = cli.global.profile.clone().filter(|name| !name.is_empty());
    let uses_profiles = match &mut cli.command {
        Command::Discover(_) => true,
        Command::Jwt(_) => named.is_some(),
        command => command.server_and_scope().is_some(),
    };
    if !uses_profiles {
        return Ok(());
    }
    let Some(profile) = profile::select(named.as_deref())? else { return Ok(()) };
    match &mut cli.command {
        Command::Discover(args) => profile.fill_issuer(&mut args.issuer, &mut args.tls),
        Command::Jwt(args) => {
            if args.issuer.is_some() {
                say!("warning: the command names its issuer: the profile's is not used");
            }
            profile.fill_issuer(&mut args.issuer, &mut args.tls);
        }
        command => {
            if let Some((server, scope)) = command.server_and_scope() {
                if !profile.fill(server) && named.is_some() {
                    say!(
                        "warning: the command names its server: the profile's server and client are not used"
                    );
                }
                if let Some(scope) = scope {
                    if scope.is_none() {
                        scope.clone_from(&profile.scope);
                    }
                }
            }
        }
    }
    Ok(())
}
