//! Sending a form to an endpoint and classifying the answer.
//!
//! Classification, in order:
//! 1. a body over the limit is a transport error (in case the adapter did not enforce it);
//! 2. a JSON object with a string `error` member is an OAuth 2.0 error, whatever the status
//!    (a `200 OK` carrying `{"error": ...}` included);
//! 3. a 2xx status with a body the operation can decode is success;
//! 4. a 2xx status with any other body is a decode error;
//! 5. anything else is an unexpected status.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::Value;
use tracing::Instrument as _;

use crate::client_auth::{AuthFailure, ClientAuth};
use crate::clock::Clock;
use crate::decode::{DecodeError, JsonObject};
use crate::dpop::DpopKey;
use crate::endpoint::{Endpoint, Redacted};
use crate::error::{Error, ErrorResponse, OAuth2Error, Result, kept_headers, retry_after};
use crate::excerpt::{safe_excerpt, success_excerpt};
use crate::form::Form;
use crate::http::{BodyLimit, HttpClient, TransportError};
use crate::redact::SentSecrets;

const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// What a client needs to talk to an authorization server: the HTTP client, the clock and the
/// body limit. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Transport {
    pub(crate) http: Arc<dyn HttpClient>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) body_limit: usize,
}

impl Transport {
    /// A transport with the defaults: the system clock and a 1 MiB body limit.
    pub(crate) fn new(http: Arc<dyn HttpClient>) -> Self {
        Self { http, clock: Arc::new(crate::clock::SystemClock), body_limit: BodyLimit::DEFAULT.0 }
    }
}

/// A client of one endpoint where the client authenticates itself and sends a token
/// (introspection, revocation): the endpoint, the credentials and the transport.
pub(crate) struct TokenFormEndpoint {
    pub(crate) endpoint: Endpoint,
    pub(crate) auth: ClientAuth,
    pub(crate) transport: Transport,
}

impl TokenFormEndpoint {
    /// POSTs `token` (with its `token_type_hint`) as `operation`, authenticated.
    pub(crate) async fn post_token(
        &self,
        operation: Operation,
        token: &str,
        hint: Option<&crate::token_type::TokenTypeHint>,
    ) -> Result<Answer> {
        self.transport.post_form(operation, &self.endpoint, Form::token(token, hint), &self.auth).await
    }

    /// [`post_token`](Self::post_token), asking for `accept` answers.
    #[cfg(feature = "jwt")]
    pub(crate) async fn post_token_accepting(
        &self,
        operation: Operation,
        token: &str,
        hint: Option<&crate::token_type::TokenTypeHint>,
        accept: &'static str,
    ) -> Result<Answer> {
        let form = Form::token(token, hint);
        self.transport.post_form_accepting(operation, &self.endpoint, form, &self.auth, None, accept).await
    }
}

impl std::fmt::Debug for TokenFormEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("endpoint", &self.endpoint)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// Refuses a body limit of zero.
pub(crate) fn check_body_limit(bytes: usize) -> Result<(), crate::config_error::ConfigError> {
    if bytes == 0 {
        Err(crate::config_error::ConfigError::new(
            crate::config_error::ConfigErrorKind::InvalidSetting,
            "body limit must be at least one byte",
        ))
    } else {
        Ok(())
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("clock", &self.clock)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

/// A request to an authorization server endpoint, for the trace.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Operation {
    /// A token request with this `grant_type`.
    Token(&'static str),
    Introspection,
    Revocation,
    Discovery,
    UserInfo,
    DeviceAuthorization,
    PushedAuthorization,
    #[cfg(feature = "jwt")]
    Jwks,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Self::Token(_) => "token",
            Self::Introspection => "introspection",
            Self::Revocation => "revocation",
            Self::Discovery => "discovery",
            Self::UserInfo => "userinfo",
            Self::DeviceAuthorization => "device_authorization",
            Self::PushedAuthorization => "pushed_authorization",
            #[cfg(feature = "jwt")]
            Self::Jwks => "jwks",
        }
    }

    fn grant(self) -> &'static str {
        match self {
            Self::Token(grant) => grant,
            Self::Introspection
            | Self::Revocation
            | Self::Discovery
            | Self::UserInfo
            | Self::DeviceAuthorization
            | Self::PushedAuthorization => "",
            #[cfg(feature = "jwt")]
            Self::Jwks => "",
        }
    }
}

/// An answer from an endpoint, not yet classified.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) requested_at: Instant,
    /// The secrets the request carried: never shown in an error built from this answer.
    pub(crate) sent: SentSecrets,
    /// For reading a `Retry-After` date.
    clock: Arc<dyn Clock>,
}

impl Transport {
    /// POSTs `form` to `endpoint`, authenticated with `auth`.
    pub(crate) async fn post_form(
        &self,
        operation: Operation,
        endpoint: &Endpoint,
        form: Form,
        auth: &ClientAuth,
    ) -> Result<Answer> {
        self.post_form_proved(operation, endpoint, form, auth, None).await
    }

    /// [`post_form`](Self::post_form), with a DPoP proof (RFC 9449 §5) when there is one.
    pub(crate) async fn post_form_proved(
        &self,
        operation: Operation,
        endpoint: &Endpoint,
        form: Form,
        auth: &ClientAuth,
        proof: Option<HeaderValue>,
    ) -> Result<Answer> {
        self.post_form_accepting(operation, endpoint, form, auth, proof, JSON).await
    }

    /// [`post_form_proved`](Self::post_form_proved), asking for `accept` answers.
    pub(crate) async fn post_form_accepting(
        &self,
        operation: Operation,
        endpoint: &Endpoint,
        mut form: Form,
        auth: &ClientAuth,
        proof: Option<HeaderValue>,
        accept: &'static str,
    ) -> Result<Answer> {
        let authorization = auth.apply(&mut form, endpoint, self.clock.system_time()).await.map_err(
            |failure| match failure {
                AuthFailure::Config(error) => Error::Config(error),
                AuthFailure::Signing(error) => Error::Signing(error),
            },
        )?;
        let body = form.into_body();
        let mut request = http::Request::new(body.clone());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = endpoint.uri().clone();
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(FORM_CONTENT_TYPE));
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        if let Some(value) = authorization {
            headers.insert(AUTHORIZATION, value);
        }
        if let Some(proof) = proof {
            headers.insert(crate::dpop::DPOP, proof);
        }
        let mut answer = self.send(operation, endpoint, request).await?;
        answer.sent = SentSecrets::of_request(body, auth);
        Ok(answer)
    }

    /// Sends a request proven with `key` (`send` makes and sends it with the proof it is given):
    /// the request `method` `uri`, carrying `token` if any. The answer's nonce is kept; when the
    /// server asks for a nonce it had not given before, the request is made and sent once more
    /// with a new proof (RFC 9449 §8, §9).
    pub(crate) async fn send_proved<F, Fut>(
        &self,
        key: &DpopKey,
        method: &Method,
        uri: &http::Uri,
        token: Option<&crate::secret::AccessToken>,
        send: F,
    ) -> Result<Answer>
    where
        F: Fn(HeaderValue) -> Fut,
        Fut: std::future::Future<Output = Result<Answer>>,
    {
        let mut retried = false;
        loop {
            let now = self.clock.system_time();
            let (proof, used) =
                key.proof_with_nonce(method, uri, token, now).await.map_err(Error::Signing)?;
            let answer = send(proof).await?;
            let renewed = key.renews_nonce(uri, &answer.headers, used.as_deref());
            if renewed && !retried && answer.asks_for_dpop_nonce() {
                tracing::debug!("the server asks for a new DPoP nonce; sending again with it");
                retried = true;
                continue;
            }
            return Ok(answer);
        }
    }

    /// GETs `endpoint`, asking for JSON.
    pub(crate) async fn get_json(&self, operation: Operation, endpoint: &Endpoint) -> Result<Answer> {
        let mut request = http::Request::new(Bytes::new());
        *request.uri_mut() = endpoint.uri().clone();
        request.headers_mut().insert(ACCEPT, HeaderValue::from_static(JSON));
        self.send(operation, endpoint, request).await
    }

    /// Sends `request` (to `endpoint`) within a trace span, under the body limit.
    pub(crate) async fn send(
        &self,
        operation: Operation,
        endpoint: &Endpoint,
        mut request: http::Request<Bytes>,
    ) -> Result<Answer> {
        // Absent means the default: no allocation for the common case.
        if self.body_limit != BodyLimit::DEFAULT.0 {
            request.extensions_mut().insert(BodyLimit(self.body_limit));
        }
        let span = tracing::info_span!(
            "oauth2_kit.request",
            operation = operation.name(),
            grant = operation.grant(),
            endpoint = %Redacted(endpoint.url()),
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let requested_at = self.clock.now();
        let sent = self.http.send(request).instrument(span.clone()).await;
        let duration = self.clock.now().saturating_duration_since(requested_at);
        span.record("duration_ms", duration.as_secs_f64() * 1000.0);
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                span.in_scope(|| tracing::debug!(error = %error, "request failed"));
                return Err(Error::Transport(error));
            }
        };
        span.record("status", response.status().as_u16());
        span.in_scope(|| tracing::debug!("response received"));
        let (parts, body) = response.into_parts();
        if body.len() > self.body_limit {
            return Err(Error::Transport(
                TransportError::body_too_large(self.body_limit).with_status(parts.status),
            ));
        }
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
            requested_at,
            sent: SentSecrets::default(),
            clock: Arc::clone(&self.clock),
        })
    }
}

impl Answer {
    /// A response received by other means than a [`Transport`], for the public decoders.
    pub(crate) fn from_response(response: crate::http::HttpResponse, requested_at: Instant) -> Self {
        let (parts, body) = response.into_parts();
        Self {
            status: parts.status,
            headers: parts.headers,
            body,
            requested_at,
            sent: SentSecrets::default(),
            clock: Arc::new(crate::clock::SystemClock),
        }
    }

    /// An OAuth 2.0 error in the body, or (RFC 6750 §3) in a `Bearer` challenge of the
    /// `WWW-Authenticate` header: how resource servers, UserInfo included, report a bad token.
    fn oauth2_error(&self) -> Option<Error> {
        self.body_error().or_else(|| self.challenge_error())
    }

    fn challenge_error(&self) -> Option<Error> {
        if self.status.is_success() {
            return None;
        }
        // Every `WWW-Authenticate` field: a `Bearer` challenge, or a `DPoP` one (a DPoP token
        // refused, RFC 9449 §7.1), the one with an error first.
        let challenges: Vec<crate::challenge::Challenge> = self
            .headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| crate::challenge::Challenge::parse(value.as_bytes()).ok())
            .flatten()
            .filter(|c| c.is_bearer() || c.is_dpop())
            .collect();
        let bearer = challenges.iter().find(|c| c.param("error").is_some()).or_else(|| challenges.first())?;
        let mut object = serde_json::Map::new();
        for name in ["error", "error_description", "error_uri"] {
            if let Some(value) = bearer.param(name) {
                object.insert(name.to_owned(), Value::String(value.to_owned()));
            }
        }
        let response = ErrorResponse::from_object(&object, &self.sent)?;
        Some(self.oauth2(response))
    }

    fn body_error(&self) -> Option<Error> {
        // Cheap pre-check before parsing: an error body must mention "error", or escape one of
        // its letters (`"\u0065rror"` is the same member name).
        static ERROR: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"error"));
        static ESCAPE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\\u"));
        ERROR.find(&self.body).or_else(|| ESCAPE.find(&self.body))?;
        let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(&self.body) else {
            return None;
        };
        let response = ErrorResponse::from_object(&object, &self.sent)?;
        Some(self.oauth2(response))
    }

    /// The OAuth 2.0 error, with any secret the server echoed back taken out.
    fn oauth2(&self, response: ErrorResponse) -> Error {
        let now = self.clock.system_time();
        Error::OAuth2(Box::new(OAuth2Error::received(self.status, response, &self.headers, &self.sent, now)))
    }

    fn unexpected_status(&self) -> Error {
        let headers = kept_headers(&self.headers, &self.sent);
        Error::UnexpectedStatus {
            status: self.status,
            body_excerpt: safe_excerpt(&self.body, &self.sent),
            retry_after: retry_after(&headers, self.clock.system_time()),
            headers: Box::new(headers),
        }
    }

    fn decode_error(&self, error: DecodeError) -> Error {
        Error::Decode {
            status: self.status,
            field: error.field(),
            reason: error.reason().to_owned(),
            body_excerpt: success_excerpt(&self.body, &self.sent),
        }
    }

    /// Whether the server asks for a DPoP proof with its nonce (RFC 9449 §8, §9): the error
    /// `use_dpop_nonce` in a JSON body (an authorization server) or in a `401`'s `DPoP`
    /// challenge (a resource server).
    fn asks_for_dpop_nonce(&self) -> bool {
        const CODE: &str = "use_dpop_nonce";
        if self.status.is_success() {
            return false;
        }
        if self.status == StatusCode::UNAUTHORIZED && crate::challenge::asks_for_dpop_nonce(&self.headers) {
            return true;
        }
        memchr::memmem::find(&self.body, CODE.as_bytes()).is_some()
            && matches!(
                serde_json::from_slice::<Value>(&self.body),
                Ok(Value::Object(object)) if object.get("error").and_then(Value::as_str) == Some(CODE)
            )
    }

    /// Classifies a JSON answer and decodes the success case with `decode`.
    pub(crate) fn json<T>(
        self,
        decode: impl for<'a> FnOnce(JsonObject<'a>, Instant) -> std::result::Result<T, DecodeError>,
    ) -> Result<T> {
        if let Some(error) = self.oauth2_error() {
            return Err(error);
        }
        if !self.status.is_success() {
            return Err(self.unexpected_status());
        }
        JsonObject::parse(&self.body)
            .and_then(|object| decode(object, self.requested_at))
            .map_err(|e| self.decode_error(e))
    }

    /// Classifies an answer whose success body is not an OAuth 2.0 JSON object (a key set):
    /// an error status is [`Error::UnexpectedStatus`], a success is decoded with `decode`.
    #[cfg(feature = "jwt")]
    pub(crate) fn body_with<T>(
        self,
        decode: impl FnOnce(&[u8]) -> std::result::Result<T, DecodeError>,
    ) -> Result<T> {
        if !self.status.is_success() {
            return Err(self.unexpected_status());
        }
        decode(&self.body).map_err(|e| self.decode_error(e))
    }

    /// Classifies an answer whose success body does not matter (revocation).
    pub(crate) fn success(self) -> Result<()> {
        if let Some(error) = self.oauth2_error() {
            return Err(error);
        }
        if self.status.is_success() { Ok(()) } else { Err(self.unexpected_status()) }
    }
}
