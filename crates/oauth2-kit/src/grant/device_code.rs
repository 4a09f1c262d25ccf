//! The device authorization grant (RFC 8628): for devices without a browser or a keyboard
//! (TVs, CLIs). The device shows a code, the user approves on another device, the device polls.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use secrecy::SecretString;

use serde_json::{Map, Value};
use url::Url;

use crate::decode::{DecodeError, JsonObject};
use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorCode, Result};
use crate::exchange::Operation;
use crate::form::Form;
use crate::grant::token_endpoint::TokenEndpoint;
use crate::runtime::Runtime;
use crate::scope::Scope;
use crate::secret::DeviceCode;
use crate::token::TokenResponse;

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The polling interval when the server gives none (RFC 8628 §3.2).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// How much a `slow_down` answer adds to the interval (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// The member of a saved authorization that says when it expires by the wall clock.
const SAVED_EXPIRES_AT: &str = "oauth2_kit_expires_at";

/// The longest polling interval: a server asking for more is read as asking for this.
pub const MAX_INTERVAL: Duration = Duration::from_secs(300);

/// What the device shows the user, and what it keeps to poll (RFC 8628 §3.2).
///
/// ```
/// use std::time::{Duration, Instant};
/// use oauth2_kit::grant::device_code::DeviceAuthorization;
///
/// // RFC 8628 §3.2, without `interval`: polling then waits 5 s.
/// let auth = DeviceAuthorization::from_json(br#"{
///     "device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
///     "user_code": "WDJB-MJHT",
///     "verification_uri": "https://example.com/device",
///     "verification_uri_complete": "https://example.com/device?user_code=WDJB-MJHT",
///     "expires_in": 1800
/// }"#, Instant::now())?;
/// assert_eq!(auth.user_code(), "WDJB-MJHT");
/// assert_eq!(auth.interval(), Duration::from_secs(5));
/// assert_eq!(auth.expires_in(), Duration::from_secs(1800));
/// # Ok::<(), oauth2_kit::DecodeError>(())
/// ```
#[derive(Clone)]
pub struct DeviceAuthorization {
    device_code: DeviceCode,
    user_code: String,
    verification_uri: Url,
    verification_uri_complete: Option<Url>,
    expires_in: Duration,
    interval: Duration,
    /// Whether the server sent `interval` (else [`DEFAULT_INTERVAL`] is used).
    interval_sent: bool,
    /// When the codes expire, by the monotonic clock.
    expires_at: Instant,
    extra: Map<String, Value>,
}

impl DeviceAuthorization {
    /// Decodes a device authorization response. `verification_url` (an older draft's name, which
    /// Google still sends) is read as `verification_uri`; an absent, zero or negative `interval`
    /// means 5 s, and more than 300 s is read as 300 s.
    pub fn from_json(body: &[u8], requested_at: Instant) -> Result<Self, DecodeError> {
        Self::from_object(JsonObject::parse(body)?, requested_at)
    }

    pub(crate) fn from_object(
        mut object: JsonObject<'_>,
        requested_at: Instant,
    ) -> Result<Self, DecodeError> {
        let device_code = object.required_string("device_code")?;
        let user_code = object.required_string("user_code")?;
        let verification_uri = match object.optional_string("verification_uri")? {
            Some(uri) => uri,
            None => object.optional_string("verification_url")?.ok_or_else(|| {
                DecodeError::new(Some("verification_uri"), "missing required field `verification_uri`")
            })?,
        };
        let verification_uri = url(&verification_uri, "verification_uri")?;
        let verification_uri_complete = object
            .optional_string("verification_uri_complete")?
            .map(|uri| url(&uri, "verification_uri_complete"))
            .transpose()?;
        let expires_in = object
            .lifetime("expires_in")?
            .ok_or_else(|| DecodeError::new(Some("expires_in"), "missing or non-positive `expires_in`"))?;
        let sent_interval = object.lifetime("interval")?;
        Ok(Self {
            device_code: DeviceCode::new(device_code),
            user_code,
            verification_uri,
            verification_uri_complete,
            expires_in,
            interval: sent_interval.map_or(DEFAULT_INTERVAL, |i| i.min(MAX_INTERVAL)),
            interval_sent: sent_interval.is_some(),
            expires_at: requested_at.checked_add(expires_in).unwrap_or(requested_at),
            extra: object.into_rest(),
        })
    }

    /// See [`DeviceCodeClient::save`]: the response as the server sent it (the same members),
    /// and when it expires by the wall clock.
    pub(crate) fn save(&self, now: Instant, wall: SystemTime) -> SecretString {
        let left = self.expires_at().saturating_duration_since(now);
        let expires_at = wall.checked_add(left).unwrap_or(wall);
        let expires_at = expires_at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut saved = self.extra.clone();
        let mut put = |name: &str, value: Value| saved.insert(name.to_owned(), value);
        put("device_code", self.device_code.expose_secret().into());
        put("user_code", self.user_code.as_str().into());
        put("verification_uri", self.verification_uri.as_str().into());
        if let Some(complete) = &self.verification_uri_complete {
            put("verification_uri_complete", complete.as_str().into());
        }
        put("expires_in", self.expires_in.as_secs().into());
        if self.interval_sent {
            put("interval", self.interval.as_secs().into());
        }
        put(SAVED_EXPIRES_AT, expires_at.into());
        SecretString::from(Value::Object(saved).to_string())
    }

    /// See [`DeviceCodeClient::resume`].
    pub(crate) fn resume(saved: &str, now: Instant, wall: SystemTime) -> Result<Self, DecodeError> {
        let mut object = JsonObject::parse(saved.as_bytes())?;
        let expires_at = object
            .timestamp(SAVED_EXPIRES_AT)?
            .ok_or_else(|| DecodeError::new(Some(SAVED_EXPIRES_AT), "not a saved device authorization"))?;
        let expires_at = UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(expires_at).unwrap_or(0)));
        let mut authorization = Self::from_object(object, now)?;
        let left = expires_at
            .and_then(|at| at.duration_since(wall).ok())
            .unwrap_or(Duration::ZERO)
            .min(authorization.expires_in);
        authorization.expires_at = now.checked_add(left).unwrap_or(now);
        Ok(authorization)
    }

    /// The code the user types at the verification URI.
    pub fn user_code(&self) -> &str {
        &self.user_code
    }

    /// Where the user goes to approve.
    pub fn verification_uri(&self) -> &Url {
        &self.verification_uri
    }

    /// The verification URI with the user code in it (for a QR code), if the server gave one.
    pub fn verification_uri_complete(&self) -> Option<&Url> {
        self.verification_uri_complete.as_ref()
    }

    /// How long the codes are valid.
    pub fn expires_in(&self) -> Duration {
        self.expires_in
    }

    /// When the codes expire.
    pub fn expires_at(&self) -> Instant {
        self.expires_at
    }

    /// The polling interval the server asked for (5 s if it did not say).
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Whether the server sent `interval`; when it did not, [`interval`](Self::interval) is
    /// RFC 8628's default of 5 s.
    pub fn interval_sent(&self) -> bool {
        self.interval_sent
    }

    /// Every other member, as sent.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
}

fn url(text: &str, key: &'static str) -> Result<Url, DecodeError> {
    Url::parse(text).map_err(|e| DecodeError::new(Some(key), format!("`{key}` is not an absolute URL: {e}")))
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("device_code", &self.device_code)
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri.as_str())
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .field("extra", &crate::decode::KeysOnly(&self.extra))
            .finish_non_exhaustive()
    }
}

/// A client of the device authorization grant (RFC 8628), obtained from
/// [`OAuth2Client::device`](crate::OAuth2Client::device); cheap to clone. Refresh its tokens with
/// [`OAuth2Client::refresh`](crate::OAuth2Client::refresh).
///
/// ```no_run
/// use std::sync::Arc;
/// use oauth2_kit::{AuthorizationServer, ClientAuth, OAuth2Client};
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + 'static, runtime: Arc<dyn oauth2_kit::runtime::Runtime>) -> Result<(), Box<dyn std::error::Error>> {
/// let server = AuthorizationServer::new()
///     .device_authorization("https://auth.example.com/device_authorization".parse()?)
///     .token("https://auth.example.com/token".parse()?);
/// let client = OAuth2Client::builder(server, ClientAuth::public("tv-app"), http)
///     .runtime(runtime) // oauth2_kit_cache_tokio::TokioRuntime::new(), or the async-std one
///     .build()?;
/// let device = client.device()?;
/// let authorization = device.request_authorization(Some(&"profile".parse()?)).await?;
/// println!("Go to {} and enter {}", authorization.verification_uri(), authorization.user_code());
/// let token = device.poll_token(&authorization).await?;
/// # drop(token);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DeviceCodeClient {
    device_endpoint: Endpoint,
    token: Arc<TokenEndpoint>,
    runtime: Arc<dyn Runtime>,
}

impl DeviceCodeClient {
    /// The parameters the flow sets itself: refused as extra parameters.
    pub(crate) const RESERVED_PARAMS: &[&str] = &[
        "grant_type",
        "device_code",
        "scope",
        "client_id",
        "client_secret",
        "client_assertion",
        "client_assertion_type",
    ];

    /// The flow at these endpoints (shared settings checked), sleeping between polls on
    /// `runtime`. The token endpoint's extra parameters go with the device authorization
    /// request too (a server may need its `audience` there).
    pub(crate) fn new(device_endpoint: Endpoint, token: TokenEndpoint, runtime: Arc<dyn Runtime>) -> Self {
        Self { device_endpoint, token: Arc::new(token), runtime }
    }

    /// The authorization as JSON, device code included, so that a service that restarts while
    /// the user approves can go on polling with [`resume`](Self::resume). The expiry is saved as
    /// a wall-clock time, since the process that resumes has another monotonic clock.
    ///
    /// The text holds the device code, which whoever holds it can trade for the user's tokens:
    /// keep it as you would a refresh token. That is why it is a secret, and why this is the only
    /// way the code is ever serialized.
    ///
    /// ```no_run
    /// # use oauth2_kit::grant::device_code::DeviceCodeClient;
    /// # use secrecy::ExposeSecret as _;
    /// # async fn demo(client: DeviceCodeClient) -> Result<(), Box<dyn std::error::Error>> {
    /// let authorization = client.request_authorization(None).await?;
    /// let saved = client.save(&authorization);
    /// std::fs::write("device-login.json", saved.expose_secret())?; // a place only this service reads
    /// // ... the service restarts ...
    /// let saved = std::fs::read_to_string("device-login.json")?;
    /// let authorization = client.resume(&saved)?;
    /// let token = client.poll_token(&authorization).await?;
    /// # drop(token); Ok(()) }
    /// ```
    pub fn save(&self, authorization: &DeviceAuthorization) -> SecretString {
        let clock = &self.token.transport.clock;
        authorization.save(clock.now(), clock.system_time())
    }

    /// An authorization saved with [`save`](Self::save), with the time it has left counted by
    /// the wall clock. An authorization that expired meanwhile is still read: polling it ends at
    /// once with [`Error::DeviceCodeExpired`].
    pub fn resume(&self, saved: &str) -> Result<DeviceAuthorization> {
        let clock = &self.token.transport.clock;
        DeviceAuthorization::resume(saved, clock.now(), clock.system_time()).map_err(|error| Error::Decode {
            status: http::StatusCode::OK,
            field: error.field(),
            reason: format!("not a saved device authorization: {}", error.reason()),
            body_excerpt: String::new(),
        })
    }

    /// Starts a device authorization (RFC 8628 §3.1) for `scope` or the client's default.
    pub async fn request_authorization(&self, scope: Option<&Scope>) -> Result<DeviceAuthorization> {
        let token = &*self.token;
        let mut form = Form::new();
        if let Some(scope) = scope {
            form.push("scope", scope.as_str());
        }
        for (name, value) in &token.extra_params {
            form.push(name, value);
        }
        token
            .transport
            .post_form(Operation::DeviceAuthorization, &self.device_endpoint, form, &token.auth)
            .await?
            .json(DeviceAuthorization::from_object)
    }

    /// One token request for `authorization` (RFC 8628 §3.4): the token, or the server's
    /// answer (`authorization_pending`, `slow_down`, `access_denied`, `expired_token`) as an
    /// [`Error::OAuth2`]. [`poll_token`](Self::poll_token) loops over this.
    pub async fn try_token(&self, authorization: &DeviceAuthorization) -> Result<TokenResponse> {
        self.token.request(GRANT_TYPE, &[("device_code", authorization.device_code.expose_secret())]).await
    }

    /// Polls until the user approves or denies, or the codes expire (RFC 8628 §3.4, §3.5):
    /// waits `interval` (5 s if the server gave none) before each request; `authorization_pending`
    /// polls again; `slow_down` adds 5 s to the interval for this and every later wait; a
    /// connection failure, a timeout or a retryable status (5xx, 429, honouring `Retry-After`)
    /// doubles the interval; `access_denied` and `expired_token`
    /// end the polling with that [`Error::OAuth2`]. No request is sent once the codes have
    /// expired: that is [`Error::DeviceCodeExpired`].
    pub async fn poll_token(&self, authorization: &DeviceAuthorization) -> Result<TokenResponse> {
        let clock = &self.token.transport.clock;
        let expires_at = authorization.expires_at();
        let mut interval = authorization.interval;
        let mut polls = 0u32;
        loop {
            let left = expires_at.saturating_duration_since(clock.now());
            self.runtime.sleep(interval.min(left)).await;
            if clock.now() >= expires_at {
                return Err(Error::DeviceCodeExpired { polls });
            }
            polls = polls.saturating_add(1);
            match self.try_token(authorization).await {
                Ok(token) => return Ok(token),
                Err(error) => match error.oauth2().map(|e| &e.response.error) {
                    Some(ErrorCode::AuthorizationPending) => {}
                    Some(ErrorCode::SlowDown) => interval = (interval + SLOW_DOWN_STEP).min(MAX_INTERVAL),
                    Some(ErrorCode::AccessDenied | ErrorCode::ExpiredToken) => return Err(error),
                    // A timeout or connection failure (RFC 8628 §3.5), or a server that is briefly
                    // unwell (5xx, 429, `temporarily_unavailable`): back off, keep polling.
                    _ if error.is_retryable() => {
                        let doubled = interval.saturating_mul(2);
                        interval = doubled.max(error.retry_after().unwrap_or_default()).min(MAX_INTERVAL);
                    }
                    _ => return Err(error),
                },
            }
            tracing::debug!(polls, interval_s = interval.as_secs(), "device authorization pending");
        }
    }
}

impl fmt::Debug for DeviceCodeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCodeClient")
            .field("device_endpoint", &self.device_endpoint)
            .field("token", &self.token)
            .field("runtime", &self.runtime)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    fn decode(body: &str) -> Result<DeviceAuthorization, DecodeError> {
        DeviceAuthorization::from_json(body.as_bytes(), crate::SystemClock.now())
    }

    #[test]
    fn quirks_of_real_servers() {
        // Google: `verification_url`, numbers as given.
        let google = decode(
            r#"{"device_code":"d","user_code":"GQVQ-JKEC","verification_url":"https://www.google.com/device",
                "expires_in":1800,"interval":5}"#,
        )
        .unwrap();
        assert_eq!(google.verification_uri().as_str(), "https://www.google.com/device");
        // String numbers, zero interval, huge interval.
        let a = decode(r#"{"device_code":"d","user_code":"u","verification_uri":"https://a/d","expires_in":"600","interval":0}"#)
            .unwrap();
        assert_eq!(a.expires_in(), Duration::from_secs(600));
        assert_eq!(a.interval(), DEFAULT_INTERVAL);
        let b = decode(r#"{"device_code":"d","user_code":"u","verification_uri":"https://a/d","expires_in":60,"interval":1e9}"#)
            .unwrap();
        assert_eq!(b.interval(), MAX_INTERVAL);
    }

    #[test]
    fn missing_members_are_named() {
        for (body, field) in [
            (r#"{"user_code":"u","verification_uri":"https://a","expires_in":5}"#, "device_code"),
            (r#"{"device_code":"d","verification_uri":"https://a","expires_in":5}"#, "user_code"),
            (r#"{"device_code":"d","user_code":"u","expires_in":5}"#, "verification_uri"),
            (
                r#"{"device_code":"d","user_code":"u","verification_uri":"/rel","expires_in":5}"#,
                "verification_uri",
            ),
            (r#"{"device_code":"d","user_code":"u","verification_uri":"https://a"}"#, "expires_in"),
        ] {
            assert_eq!(decode(body).unwrap_err().field(), Some(field), "{body}");
        }
    }

    #[test]
    fn saved_and_resumed_in_another_process() {
        use secrecy::ExposeSecret as _;
        let start = crate::SystemClock.now();
        let a = DeviceAuthorization::from_json(
            br#"{"device_code":"DC-saved","user_code":"WDJB-MJHT","verification_uri":"https://a/d",
                "verification_uri_complete":"https://a/d?c=WDJB","expires_in":600,"vendor":{"x":1}}"#,
            start,
        )
        .unwrap();
        assert!(!a.interval_sent());
        let wall = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        // Saved 100 s into its life.
        let saved = a.save(start + Duration::from_secs(100), wall);
        assert!(!format!("{saved:?}").contains("DC-saved"));
        // Resumed by another process 50 s later (its monotonic clock is unrelated).
        let other = crate::SystemClock.now() + Duration::from_secs(7);
        let b = DeviceAuthorization::resume(saved.expose_secret(), other, wall + Duration::from_secs(50))
            .unwrap();
        assert_eq!(b.device_code.expose_secret(), "DC-saved");
        assert_eq!((b.user_code(), b.expires_in()), ("WDJB-MJHT", Duration::from_secs(600)));
        assert_eq!(b.verification_uri_complete().unwrap().as_str(), "https://a/d?c=WDJB");
        assert_eq!(b.expires_at(), other + Duration::from_secs(450));
        assert_eq!((b.interval(), b.interval_sent()), (DEFAULT_INTERVAL, false));
        assert_eq!(b.extra()["vendor"]["x"], 1);
        // A sent interval stays sent; an expired authorization resumes as expired.
        let c = decode(r#"{"device_code":"d","user_code":"u","verification_uri":"https://a","expires_in":5,"interval":9}"#)
            .unwrap();
        assert!(c.interval_sent());
        let d = DeviceAuthorization::resume(
            c.save(crate::SystemClock.now(), wall).expose_secret(),
            other,
            wall + Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!((d.interval(), d.interval_sent(), d.expires_at()), (Duration::from_secs(9), true, other));
        assert!(DeviceAuthorization::resume("{}", other, wall).is_err());
    }

    #[test]
    fn debug_hides_the_device_code() {
        let a =
            decode(r#"{"device_code":"DC-1","user_code":"u","verification_uri":"https://a","expires_in":5}"#)
                .unwrap();
        assert!(!format!("{a:?}").contains("DC-1"));
    }
}
