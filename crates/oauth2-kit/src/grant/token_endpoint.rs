//! What every grant client shares: the token endpoint, the client's credentials, and how
//! requests travel.

use std::fmt;
use std::sync::Arc;

use http::{HeaderValue, Method};

use crate::client_auth::ClientAuth;
use crate::dpop::DpopKey;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::exchange::{Answer, Operation, Transport};
use crate::extra_fields::FromTokenResponse;
use crate::form::Form;
use crate::retry::RetryPolicy;
use crate::runtime::Runtime;
use crate::token::TokenResponse;

/// Whether a token request may reach the server twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Sending it again asks the same question again (client credentials, password).
    Safe,
    /// A second copy could find its grant spent (a refresh token the server rotated): retried
    /// only when the server surely did not act on the first.
    UnprocessedOnly,
}

/// A client at a token endpoint.
#[derive(Clone)]
pub(crate) struct TokenEndpoint {
    pub(crate) endpoint: Endpoint,
    pub(crate) auth: ClientAuth,
    pub(crate) transport: Transport,
    /// Sent with every token request (`audience`, `resource`, ...).
    pub(crate) extra_params: Vec<(String, String)>,
    /// Transient retries, and the runtime that sleeps between them.
    pub(crate) retry: Option<(RetryPolicy, Arc<dyn Runtime>)>,
    /// The key every request proves possession of, for DPoP-bound tokens.
    pub(crate) dpop: Option<DpopKey>,
}

impl TokenEndpoint {
    /// POSTs a token request (retried as the retry policy says, if there is one).
    pub(crate) async fn request(
        &self,
        grant: &'static str,
        params: &[(&str, &str)],
    ) -> Result<TokenResponse> {
        self.request_retrying(grant, params, Replay::Safe).await
    }

    /// POSTs a token request, retried after the failures `replay` allows.
    pub(crate) async fn request_retrying(
        &self,
        grant: &'static str,
        params: &[(&str, &str)],
        replay: Replay,
    ) -> Result<TokenResponse> {
        self.retrying(grant, replay, || self.request_once(grant, params)).await
    }

    /// Makes `attempt` (a whole token request, its parameters made anew each time: a signed
    /// assertion is never sent twice), retried after the failures `replay` allows.
    pub(crate) async fn retrying<F, Fut>(
        &self,
        grant: &'static str,
        replay: Replay,
        attempt_once: F,
    ) -> Result<TokenResponse>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<TokenResponse>>,
    {
        let Some((policy, runtime)) = &self.retry else { return attempt_once().await };
        let clock = &self.transport.clock;
        let start = clock.now();
        let mut attempt = 1u32;
        loop {
            let error = match attempt_once().await {
                Ok(token) => return Ok(token),
                Err(error) => error,
            };
            let retryable = match replay {
                Replay::Safe => policy.retries(&error),
                Replay::UnprocessedOnly => policy.retries_unprocessed(&error),
            };
            if attempt >= policy.max_attempts || !retryable {
                return Err(error);
            }
            let elapsed = clock.now().saturating_duration_since(start);
            let delay = policy.delay(attempt, crate::random::unit(), error.retry_after());
            if elapsed.saturating_add(delay) > policy.deadline {
                return Err(error);
            }
            let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            tracing::debug!(grant, attempt, %error, delay_ms, "token request failed; retrying");
            runtime.sleep(delay).await;
            attempt += 1;
        }
    }

    /// POSTs a token request once: `grant_type`, then `params`, then the extra parameters. With a
    /// DPoP key, the request carries a proof, and is sent a second time when the server asks
    /// for a nonce it had not given before (RFC 9449 §8).
    pub(crate) async fn request_once(
        &self,
        grant: &'static str,
        params: &[(&str, &str)],
    ) -> Result<TokenResponse> {
        let Some(dpop) = &self.dpop else {
            return self.post(grant, params, None).await?.json(TokenResponse::from_object);
        };
        let answer = self
            .transport
            .send_proved(dpop, &Method::POST, self.endpoint.uri(), None, |proof| {
                self.post(grant, params, Some(proof))
            })
            .await?;
        answer.json(TokenResponse::from_object).map(|token| dpop.bind(token))
    }

    /// POSTs the form of a token request (a new one each time: a client assertion is never
    /// sent twice).
    async fn post(
        &self,
        grant: &'static str,
        params: &[(&str, &str)],
        proof: Option<HeaderValue>,
    ) -> Result<Answer> {
        let mut form = Form::new();
        form.push("grant_type", grant);
        for (name, value) in params {
            form.push(name, value);
        }
        for (name, value) in &self.extra_params {
            form.push(name, value);
        }
        self.transport
            .post_form_proved(Operation::Token(grant), &self.endpoint, form, &self.auth, proof)
            .await
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
        if let Some(dpop) = &self.dpop {
            // Tokens bound to a key are shared only by holders of that key.
            identity.push_str(&format!("dpop_jkt={:?}\n", dpop.thumbprint()));
        }
        identity
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
            .field("retry", &self.retry.as_ref().map(|(policy, _)| policy))
            .field("dpop", &self.dpop)
            .finish()
    }
}
