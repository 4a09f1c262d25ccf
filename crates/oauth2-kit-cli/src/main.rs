//! `oauth2-kit`: get, inspect and revoke OAuth 2.0 tokens from a terminal or a script, decode
//! and verify JWTs, and run the embedded authorization server for local development. Every
//! protocol step is the `oauth2-kit` library's.

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

#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if cli.global.verbose {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
            .init();
    }
    let printer = Printer { output: cli.global.output, reveal: cli.global.reveal };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    if let Err(failure) = apply_profile(&mut cli) {
        eprintln!("error: {failure}");
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
            Command::Discover(args) => commands::discover(args.issuer.as_ref(), printer).await,
            Command::Profiles => commands::profiles(printer),
            Command::Jwt(args) => commands::jwt(args, printer).await,
            Command::Testkit(args) => testkit::testkit(args, printer).await,
            Command::Completions { shell } => {
                clap_complete::generate(*shell, &mut Cli::command(), "oauth2-kit", &mut std::io::stdout());
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}

/// Fills the command's options that are not given from the profile (`--profile`, else the
/// configuration file's default).
fn apply_profile(cli: &mut Cli) -> Result<(), failure::Failure> {
    let named = cli.global.profile.clone();
    let discover = matches!(cli.command, Command::Discover(_));
    if cli.command.server_and_scope().is_none() && !discover {
        return Ok(());
    }
    let Some(profile) = profile::select(named.as_deref())? else { return Ok(()) };
    if let Command::Discover(args) = &mut cli.command {
        if args.issuer.is_none() {
            args.issuer = profile.issuer().cloned();
        }
        return Ok(());
    }
    if let Some((server, scope)) = cli.command.server_and_scope() {
        profile.fill(server);
        if let Some(scope) = scope {
            if scope.is_none() {
                scope.clone_from(&profile.scope);
            }
        }
    }
    Ok(())
}
