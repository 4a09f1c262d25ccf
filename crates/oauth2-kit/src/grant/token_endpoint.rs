//! What every grant client shares: the token endpoint, the client's credentials, and how
//! requests travel.

use std::fmt;

use crate::client_auth::ClientAuth;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::exchange::{Operation, Transport};
use crate::extra_fields::FromTokenResponse;
use crate::form::Form;
use crate::introspection::TokenTypeHint;
use crate::token::TokenResponse;

/// A client at a token endpoint.
#[derive(Clone)]
pub(crate) struct TokenEndpoint {
    pub(crate) endpoint: Endpoint,
    pub(crate) auth: ClientAuth,
    pub(crate) transport: Transport,
    /// Sent with every token request (`audience`, `resource`, ...).
    pub(crate) extra_params: Vec<(String, String)>,
}

impl TokenEndpoint {
    /// POSTs a token request: `grant_type`, then `params`, then the extra parameters.
    pub(crate) async fn request(
        &self,
        grant: &'static str,
        params: &[(&str, &str)],
    ) -> Result<TokenResponse> {
        let mut form = Form::new();
        form.push("grant_type", grant);
        for (name, value) in params {
            form.push(name, value);
        }
        for (name, value) in &self.extra_params {
            form.push(name, value);
        }
        self.transport
            .post_form(Operation::Token(grant), &self.endpoint, form, &self.auth)
            .await?
            .json(TokenResponse::from_object)
    }

    /// What identifies this client's tokens of `grant` across processes (no secret: the client
    /// secret is not part of it).
    pub(crate) fn identity(&self, grant: &str) -> String {
        // Values are quoted (Debug escapes newlines and quotes), so no two configurations read
        // the same.
        let mut identity = format!(
            "grant={grant:?}\ntoken_endpoint={:?}\nclient_id={:?}\n",
            self.endpoint.as_str(),
            self.auth.client_id().as_str()
        );
        for (name, value) in &self.extra_params {
            identity.push_str(&format!("param={name:?}:{value:?}\n"));
        }
        identity
    }

    /// [`request`](Self::request), handed back as `T`.
    pub(crate) async fn request_as<T: FromTokenResponse>(
        &self,
        grant: &'static str,
        params: &[(&str, &str)],
    ) -> Result<T> {
        let token = self.request(grant, params).await?;
        convert(token)
    }

    /// Revokes `token` at `endpoint` (RFC 7009 §2.1), authenticated as this client.
    pub(crate) async fn revoke(
        &self,
        endpoint: Option<&Endpoint>,
        token: &str,
        hint: Option<TokenTypeHint>,
    ) -> Result<()> {
        let endpoint = endpoint.ok_or_else(|| Error::config("no revocation endpoint configured"))?;
        self.transport
            .post_form(Operation::Revocation, endpoint, Form::token(token, hint.as_ref()), &self.auth)
            .await?
            .success()
    }
}

/// A decoded token response as `T`; a failure is a decode error of the (successful) response.
pub(crate) fn convert<T: FromTokenResponse>(token: TokenResponse) -> Result<T> {
    T::from_token_response(token).map_err(|e| Error::Decode {
        status: http::StatusCode::OK,
        field: e.field(),
        reason: e.reason().to_owned(),
        body_excerpt: String::new(),
    })
}

impl fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("endpoint", &self.endpoint)
            .field("auth", &self.auth)
            .field("extra_params", &self.extra_params.iter().map(|(n, _)| n).collect::<Vec<_>>())
            .field("transport", &self.transport)
            .finish()
    }
}
