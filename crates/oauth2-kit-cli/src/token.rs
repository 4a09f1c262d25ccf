//! `token`: an access token by any grant that needs no browser (client credentials, password,
//! refresh, JWT bearer, token exchange), with any client authentication.

use std::io::IsTerminal as _;

use oauth2_kit::grant::jwt_bearer::{AssertionSource, SignedAssertion};
use oauth2_kit::grant::token_exchange::{TokenExchangeRequest, TokenTypeUri};
use oauth2_kit::{Assertion, RefreshToken, Scope};
use serde_json::Value;

use crate::cli::{AssertionArgs, ExchangeArgs, Grant, TokenArgs};
use crate::commands::{client_builder, print_token, token_fields};
use crate::failure::Failure;
use crate::input;
use crate::output::Printer;

/// `token`.
pub(crate) async fn token(args: &TokenArgs, printer: Printer) -> Result<(), Failure> {
    let scope = match &args.scope {
        Some(text) => Some(text.parse::<Scope>().map_err(|e| Failure::local(format!("--scope: {e}")))?),
        None => None,
    };
    let mut builder = client_builder(&args.server).await?;
    for resource in &args.resource {
        builder = builder.resource(resource.clone());
    }
    // Token exchange sends its audiences itself; other grants as an extra parameter, which
    // servers that know it (Auth0, and others) read.
    if args.grant != Grant::TokenExchange {
        for audience in &args.audience {
            builder = builder.extra_param("audience", audience.clone());
        }
    }
    let client = builder.build().map_err(|e| Failure::local(e.to_string()))?;
    let token = match args.grant {
        Grant::ClientCredentials => client.client_credentials()?.request_token(scope.as_ref()).await?,
        Grant::Password => {
            let username = args
                .username
                .clone()
                .ok_or_else(|| Failure::local("--username is required for --grant password"))?;
            let password = password(&args.password_env)?;
            client
                .password()?
                .request_token(&username, &oauth2_kit::Password::new(password), scope.as_ref())
                .await?
        }
        Grant::Refresh => {
            let refresh = input::stdin_or_env(
                args.refresh_token_stdin,
                &args.refresh_token_env,
                "refresh token",
                "--refresh-token-stdin",
            )?;
            client.refresh()?.refresh(&RefreshToken::new(refresh), scope.as_ref()).await?
        }
        Grant::JwtBearer => {
            let source = assertion(&args.assertion, client.auth().client_id().as_str())?;
            client.jwt_bearer(AssertionBox(source))?.request_token(scope.as_ref()).await?
        }
        Grant::TokenExchange => {
            let mut request = exchange_request(&args.exchange)?;
            for audience in &args.audience {
                request = request.audience(audience.clone());
            }
            if let Some(scope) = scope {
                request = request.scope(scope);
            }
            let exchanged = client.token_exchange()?.exchange(&request).await?;
            let mut fields = token_fields(exchanged.token(), printer);
            fields.insert(
                "issued_token_type".into(),
                Value::String(exchanged.issued_token_type().as_str().to_owned()),
            );
            printer.print(fields, Some(exchanged.token().access_token().expose_secret()));
            return Ok(());
        }
    };
    print_token(&token, printer);
    Ok(())
}

/// The password of `--grant password`: from the environment, else typed at the terminal.
fn password(env: &str) -> Result<String, Failure> {
    if let Some(password) = input::env(env) {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        return input::prompt("password");
    }
    Err(Failure::local(format!(
        "the password is read from ${env} (--password-env), or typed at a terminal: neither is there"
    )))
}

/// The assertions of `--grant jwt-bearer`: the one given, or new ones signed with the key given.
fn assertion(args: &AssertionArgs, client_id: &str) -> Result<Box<dyn AssertionSource>, Failure> {
    if let Some(path) = &args.assertion_key_file {
        let key = input::private_key(path, args.assertion_key_id.as_deref(), "assertion key")?;
        let subject = args
            .assertion_subject
            .clone()
            .ok_or_else(|| Failure::local("--assertion-subject is required with --assertion-key-file"))?;
        let issuer = args.assertion_issuer.clone().unwrap_or_else(|| client_id.to_owned());
        return Ok(Box::new(SignedAssertion::new(key, issuer, subject)));
    }
    let given = if args.assertion_stdin {
        input::stdin_line("assertion")?
    } else if let Some(path) = &args.assertion_file {
        input::file_line(path, "assertion")?
    } else {
        return Err(Failure::local(
            "--grant jwt-bearer needs an assertion: --assertion-file, --assertion-stdin, or --assertion-key-file with --assertion-subject",
        ));
    };
    Ok(Box::new(Assertion::new(given)))
}

/// A boxed source is a source.
#[derive(Debug)]
struct AssertionBox(Box<dyn AssertionSource>);

#[oauth2_kit::async_trait]
impl AssertionSource for AssertionBox {
    async fn assertion(
        &self,
        context: &oauth2_kit::grant::jwt_bearer::AssertionContext<'_>,
    ) -> Result<Assertion, oauth2_kit::signing::SigningError> {
        self.0.assertion(context).await
    }
}

/// The request of `--grant token-exchange`.
fn exchange_request(args: &ExchangeArgs) -> Result<TokenExchangeRequest, Failure> {
    let subject = input::stdin_or_env(
        args.subject_token_stdin,
        &args.subject_token_env,
        "subject token",
        "--subject-token-stdin",
    )?;
    let mut request = TokenExchangeRequest::new(subject, token_type(&args.subject_token_type)?);
    if let Some(env) = &args.actor_token_env {
        let actor = input::env(env)
            .ok_or_else(|| Failure::local(format!("the actor token is read from ${env}: it is not set")))?;
        request = request.actor(actor, token_type(&args.actor_token_type)?);
    }
    if let Some(kind) = &args.requested_token_type {
        request = request.requested_token_type(token_type(kind)?);
    }
    Ok(request)
}

/// A token type by its short name (`access_token`, ...) or its URI.
fn token_type(name: &str) -> Result<TokenTypeUri, Failure> {
    Ok(match name {
        "access_token" => TokenTypeUri::AccessToken,
        "refresh_token" => TokenTypeUri::RefreshToken,
        "id_token" => TokenTypeUri::IdToken,
        "jwt" => TokenTypeUri::Jwt,
        "saml1" => TokenTypeUri::Saml1,
        "saml2" => TokenTypeUri::Saml2,
        uri if uri.contains(':') => TokenTypeUri::from(uri),
        other => {
            return Err(Failure::local(format!(
                "{other} is no token type: use access_token, refresh_token, id_token, jwt, saml1, saml2 or a URI"
            )));
        }
    })
}
