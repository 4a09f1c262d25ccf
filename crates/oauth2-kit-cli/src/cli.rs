//! The command line: global options (the server, the client, the output) and the commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use url::Url;

/// Get, inspect and revoke OAuth 2.0 tokens; decode and verify JWTs; run a local authorization
/// server.
///
/// Exit codes: 0 success, 1 a configuration or local error, 2 a usage error, 3 the server
/// refused (an OAuth 2.0 error, an invalid token), 4 the server could not be reached.
#[derive(Debug, Parser)]
#[command(name = "oauth2-kit", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// How to print results: `human` (default), `json` for scripts, `raw` for the token alone
    /// (`token`: the access token on stdout, for a pipe).
    #[arg(long, global = true, value_enum, default_value_t = Output::Human)]
    pub(crate) output: Output,
    /// Show tokens in full instead of redacted.
    #[arg(long, global = true)]
    pub(crate) reveal: bool,
    /// The profile of the configuration file to use (default: the file's `default`); see
    /// `oauth2-kit profiles`.
    #[arg(long, global = true, env = "OAUTH2_PROFILE")]
    pub(crate) profile: Option<String>,
    /// Log the library's trace (which never shows a secret) to stderr.
    #[arg(long, short, global = true)]
    pub(crate) verbose: bool,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    Human,
    Json,
    Raw,
}

/// The authorization server and the client.
#[derive(Debug, Args)]
pub(crate) struct Server {
    /// The issuer, exactly as the server names itself (a trailing `/` matters): its endpoints
    /// are discovered (`/.well-known/...`).
    #[arg(long, env = "OAUTH2_ISSUER")]
    pub(crate) issuer: Option<String>,
    /// The authorization endpoint (`login`), without discovery.
    #[arg(long, env = "OAUTH2_AUTHORIZATION_URL")]
    pub(crate) authorization_url: Option<Url>,
    /// The token endpoint, without discovery.
    #[arg(long, env = "OAUTH2_TOKEN_URL")]
    pub(crate) token_url: Option<Url>,
    /// The introspection endpoint, without discovery.
    #[arg(long, env = "OAUTH2_INTROSPECTION_URL")]
    pub(crate) introspection_url: Option<Url>,
    /// The revocation endpoint, without discovery.
    #[arg(long, env = "OAUTH2_REVOCATION_URL")]
    pub(crate) revocation_url: Option<Url>,
    /// The client identifier.
    #[arg(long, env = "OAUTH2_CLIENT_ID")]
    pub(crate) client_id: Option<String>,
    #[command(flatten)]
    pub(crate) secret: SecretSource,
    /// How the client authenticates. Default: `private-key-jwt` with `--client-key-file`, else
    /// the first of `basic`, `post` and `client-secret-jwt` the server accepts (`basic` when
    /// its metadata does not say).
    #[arg(long, value_enum)]
    pub(crate) auth_method: Option<AuthMethod>,
    /// The client's private key (PEM or JWK) for `private-key-jwt`: assertions signed with it
    /// stand for a secret.
    #[arg(long, env = "OAUTH2_CLIENT_KEY_FILE", value_name = "PATH")]
    pub(crate) client_key_file: Option<PathBuf>,
    /// The `kid` of the client's key, when the server holds several of the client's keys.
    #[arg(long, value_name = "KID")]
    pub(crate) client_key_id: Option<String>,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
}

/// TLS: the client's certificate (mutual TLS, RFC 8705) and the roots the server's is checked
/// against.
#[derive(Debug, Default, Args)]
pub(crate) struct TlsArgs {
    /// The client certificate chain (PEM), presented to the server: for `tls-client-auth`,
    /// `self-signed-tls-client-auth`, and certificate-bound tokens.
    #[arg(long, env = "OAUTH2_CLIENT_CERTIFICATE", value_name = "PATH")]
    pub(crate) client_certificate: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, env = "OAUTH2_CLIENT_CERTIFICATE_KEY", value_name = "PATH")]
    pub(crate) client_certificate_key: Option<PathBuf>,
    /// More roots to trust for the server's certificate (PEM), as a private CA's.
    #[arg(long, env = "OAUTH2_CA_FILE", value_name = "PATH")]
    pub(crate) ca_file: Option<PathBuf>,
}

/// Where the client secret comes from (a public client has none).
#[derive(Debug, Args)]
pub(crate) struct SecretSource {
    /// The environment variable holding the client secret (default: `OAUTH2_CLIENT_SECRET`).
    #[arg(long, value_name = "VAR")]
    pub(crate) client_secret_env: Option<String>,
    /// A file holding the client secret (its first line).
    #[arg(long, value_name = "PATH")]
    pub(crate) client_secret_file: Option<PathBuf>,
    /// Read the client secret from standard input (its first line).
    #[arg(long)]
    pub(crate) client_secret_stdin: bool,
    /// Ask for the client secret on the terminal (not echoed).
    #[arg(long)]
    pub(crate) client_secret_prompt: bool,
    /// The client secret itself: it ends up in the shell's history and the process list (a
    /// warning says so); prefer the other sources.
    #[arg(long, value_name = "SECRET")]
    pub(crate) client_secret: Option<String>,
}

/// How a client authenticates (RFC 6749 §2.3, RFC 7523 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum AuthMethod {
    /// The secret in HTTP Basic (`client_secret_basic`).
    Basic,
    /// The secret in the form (`client_secret_post`).
    Post,
    /// A JWT signed with the secret (`client_secret_jwt`, HS256).
    ClientSecretJwt,
    /// A JWT signed with the client's key (`private_key_jwt`, `--client-key-file`).
    PrivateKeyJwt,
    /// A TLS client certificate issued by a CA (`tls_client_auth`, RFC 8705 §2.1).
    TlsClientAuth,
    /// A self-signed TLS client certificate the server holds (`self_signed_tls_client_auth`).
    SelfSignedTlsClientAuth,
    /// No authentication: a public client (`none`).
    None,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Get an access token (client credentials, password, refresh, JWT bearer, token exchange).
    Token(Box<TokenArgs>),
    /// Log a user in through a browser (authorization code with PKCE, RFC 8252): the login
    /// comes back to a listener of this command on 127.0.0.1.
    Login(LoginArgs),
    /// Get a token through the device flow (RFC 8628): a code to enter on another device.
    Device(DeviceArgs),
    /// Ask the server about a token (RFC 7662).
    Introspect(TokenInput),
    /// Who a user's access token is for (OpenID Connect UserInfo).
    Userinfo(TokenInput),
    /// Revoke a token (RFC 7009).
    Revoke(RevokeArgs),
    /// Print the server's metadata (RFC 8414, OpenID Connect Discovery).
    Discover(DiscoverArgs),
    /// Decode a JWT's header and claims; with `--issuer`, verify its signature with the
    /// issuer's keys.
    Jwt(JwtArgs),
    /// Run the embedded authorization server for local development.
    Testkit(TestkitArgs),
    /// Show the configuration file and its profiles.
    Profiles,
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `token`.
#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    #[command(flatten)]
    pub(crate) server: Server,
    /// The grant.
    #[arg(long, value_enum, default_value_t = Grant::ClientCredentials)]
    pub(crate) grant: Grant,
    /// The scope to ask for (space-separated).
    #[arg(long)]
    pub(crate) scope: Option<String>,
    /// A resource the token is for (RFC 8707; repeatable).
    #[arg(long)]
    pub(crate) resource: Vec<Url>,
    /// The resource owner (`--grant password`).
    #[arg(long, env = "OAUTH2_USERNAME")]
    pub(crate) username: Option<String>,
    /// The environment variable holding the password (`--grant password`).
    #[arg(long, default_value = "OAUTH2_PASSWORD", value_name = "VAR")]
    pub(crate) password_env: String,
    /// An audience of the token (repeatable): sent as `audience` (token exchange, RFC 8693; and
    /// to servers that take it with other grants).
    #[arg(long)]
    pub(crate) audience: Vec<String>,
    #[command(flatten)]
    pub(crate) assertion: AssertionArgs,
    #[command(flatten)]
    pub(crate) exchange: ExchangeArgs,
    /// The environment variable holding the refresh token (`--grant refresh`).
    #[arg(long, default_value = "OAUTH2_REFRESH_TOKEN", value_name = "VAR")]
    pub(crate) refresh_token_env: String,
    /// Read the refresh token from standard input instead (`--grant refresh`).
    #[arg(long)]
    pub(crate) refresh_token_stdin: bool,
}

/// `device`.
#[derive(Debug, Args)]
pub(crate) struct DeviceArgs {
    #[command(flatten)]
    pub(crate) server: Server,
    /// The scope to ask for (space-separated).
    #[arg(long)]
    pub(crate) scope: Option<String>,
}

/// `login`.
#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    #[command(flatten)]
    pub(crate) server: Server,
    /// The scope to ask for (space-separated); with `openid`, the ID token is validated.
    #[arg(long)]
    pub(crate) scope: Option<String>,
    /// The port of the callback listener on 127.0.0.1 (0: a free one). The redirect URI is
    /// `http://127.0.0.1:PORT/callback`, which the client must have registered (a native
    /// client's loopback redirect URI matches any port, RFC 8252 §7.3).
    #[arg(long, default_value_t = 0)]
    pub(crate) port: u16,
    /// The path of the redirect URI.
    #[arg(long, default_value = "/callback", value_name = "PATH")]
    pub(crate) callback_path: String,
    /// Print the login link instead of opening a browser.
    #[arg(long)]
    pub(crate) no_browser: bool,
    /// How long to wait for the login to come back, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub(crate) timeout: u64,
}

/// The assertion of `--grant jwt-bearer` (RFC 7523 §2.1): one given, or one signed here.
#[derive(Debug, Args)]
#[command(next_help_heading = "JWT bearer grant")]
pub(crate) struct AssertionArgs {
    /// A file holding the assertion (a signed JWT) to present.
    #[arg(long, value_name = "PATH")]
    pub(crate) assertion_file: Option<PathBuf>,
    /// Read the assertion from standard input.
    #[arg(long)]
    pub(crate) assertion_stdin: bool,
    /// Sign a new assertion with this private key (PEM or JWK) instead.
    #[arg(long, value_name = "PATH")]
    pub(crate) assertion_key_file: Option<PathBuf>,
    /// The `kid` of the assertion key.
    #[arg(long, value_name = "KID")]
    pub(crate) assertion_key_id: Option<String>,
    /// The signed assertion's `iss` (default: the client id).
    #[arg(long)]
    pub(crate) assertion_issuer: Option<String>,
    /// The signed assertion's `sub`: whom the token is for.
    #[arg(long)]
    pub(crate) assertion_subject: Option<String>,
}

/// The tokens of `--grant token-exchange` (RFC 8693).
#[derive(Debug, Args)]
#[command(next_help_heading = "Token exchange")]
pub(crate) struct ExchangeArgs {
    /// The environment variable holding the subject token.
    #[arg(long, default_value = "OAUTH2_SUBJECT_TOKEN", value_name = "VAR")]
    pub(crate) subject_token_env: String,
    /// Read the subject token from standard input instead.
    #[arg(long)]
    pub(crate) subject_token_stdin: bool,
    /// The subject token's type: `access_token`, `refresh_token`, `id_token`, `jwt`, `saml1`,
    /// `saml2` or a URI.
    #[arg(long, default_value = "access_token", value_name = "TYPE")]
    pub(crate) subject_token_type: String,
    /// The environment variable holding an actor token (delegation), if any.
    #[arg(long, value_name = "VAR")]
    pub(crate) actor_token_env: Option<String>,
    /// The actor token's type.
    #[arg(long, default_value = "access_token", value_name = "TYPE")]
    pub(crate) actor_token_type: String,
    /// The type of token to issue (default: the server's choice).
    #[arg(long, value_name = "TYPE")]
    pub(crate) requested_token_type: Option<String>,
}

/// The grants `token` can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Grant {
    /// The client's own token (RFC 6749 §4.4).
    ClientCredentials,
    /// A user's name and password (RFC 6749 §4.3).
    Password,
    /// A refresh token for a new access token (RFC 6749 §6).
    Refresh,
    /// A signed assertion for a token (RFC 7523 §2.1).
    JwtBearer,
    /// A token for another token (RFC 8693).
    TokenExchange,
}

/// A token given to a command.
#[derive(Debug, Args)]
pub(crate) struct TokenInput {
    #[command(flatten)]
    pub(crate) server: Server,
    /// The token: `-` reads it from standard input (a token on the command line ends up in the
    /// shell's history; a warning says so).
    pub(crate) token: String,
}

/// `revoke`.
#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    #[command(flatten)]
    pub(crate) input: TokenInput,
    /// The token is a refresh token.
    #[arg(long)]
    pub(crate) refresh: bool,
}

/// `discover`.
#[derive(Debug, Args)]
pub(crate) struct DiscoverArgs {
    /// The issuer, exactly as the server names itself.
    #[arg(long, env = "OAUTH2_ISSUER")]
    pub(crate) issuer: Option<String>,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
}

/// `jwt`.
#[derive(Debug, Args)]
pub(crate) struct JwtArgs {
    /// The JWT: `-` reads it from standard input.
    pub(crate) token: String,
    /// Verify the signature with this issuer's keys (its discovered `jwks_uri`).
    #[arg(long, env = "OAUTH2_ISSUER")]
    pub(crate) issuer: Option<String>,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
}

/// `testkit`.
#[derive(Debug, Args)]
pub(crate) struct TestkitArgs {
    /// The port on 127.0.0.1 (0: a free one). Default: the file's, else 8080.
    #[arg(long)]
    pub(crate) port: Option<u16>,
    /// Issue access tokens as JWTs (RFC 9068) instead of opaque ones.
    #[arg(long)]
    pub(crate) jwt_access_tokens: bool,
    /// A TOML file of more clients, users and trusted assertion issuers (see docs/cli.md).
    #[arg(long, value_name = "PATH")]
    pub(crate) config: Option<std::path::PathBuf>,
}

impl Command {
    /// What the command would read from standard input: at most one thing can come from it.
    pub(crate) fn stdin_readers(&self) -> Vec<&'static str> {
        let mut readers = Vec::new();
        let mut secret = |server: &Server| {
            if server.secret.client_secret_stdin {
                readers.push("--client-secret-stdin");
            }
        };
        match self {
            Self::Token(args) => {
                secret(&args.server);
                for (on, name) in [
                    (args.refresh_token_stdin, "--refresh-token-stdin"),
                    (args.exchange.subject_token_stdin, "--subject-token-stdin"),
                    (args.assertion.assertion_stdin, "--assertion-stdin"),
                ] {
                    if on {
                        readers.push(name);
                    }
                }
            }
            Self::Login(args) => secret(&args.server),
            Self::Device(args) => secret(&args.server),
            Self::Introspect(args) | Self::Userinfo(args) => {
                secret(&args.server);
                if args.token == "-" {
                    readers.push("the token -");
                }
            }
            Self::Revoke(args) => {
                secret(&args.input.server);
                if args.input.token == "-" {
                    readers.push("the token -");
                }
            }
            Self::Jwt(args) => {
                if args.token == "-" {
                    readers.push("the token -");
                }
            }
            Self::Discover(_) | Self::Testkit(_) | Self::Profiles | Self::Completions { .. } => {}
        }
        readers
    }

    /// The server and client options of the command, and the scope a profile may give it (the
    /// grants that ask for a new grant: not a refresh or an exchange, which keep or narrow
    /// theirs).
    pub(crate) fn server_and_scope(&mut self) -> Option<(&mut Server, Option<&mut Option<String>>)> {
        match self {
            Self::Token(args) => {
                let fresh = !matches!(args.grant, Grant::Refresh | Grant::TokenExchange);
                Some((&mut args.server, fresh.then_some(&mut args.scope)))
            }
            Self::Login(args) => Some((&mut args.server, Some(&mut args.scope))),
            Self::Device(args) => Some((&mut args.server, Some(&mut args.scope))),
            Self::Introspect(args) | Self::Userinfo(args) => Some((&mut args.server, None)),
            Self::Revoke(args) => Some((&mut args.input.server, None)),
            Self::Discover(_)
            | Self::Jwt(_)
            | Self::Testkit(_)
            | Self::Profiles
            | Self::Completions { .. } => None,
        }
    }
}
