//! Fault injection: make the next requests to an endpoint slow or wrong.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};

/// An endpoint of the [`TestServer`](crate::TestServer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// `POST /token`
    Token,
    /// `POST /introspect`
    Introspection,
    /// `POST /revoke`
    Revocation,
    /// `GET /resource`, the protected resource.
    Resource,
    /// `GET /authorize`, the login page (answered by an automatic login).
    Authorize,
    /// `GET`/`POST /userinfo`
    UserInfo,
    /// `POST /device_authorization`
    DeviceAuthorization,
    /// `GET /.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`
    Discovery,
    /// `POST /par`, pushed authorization requests (RFC 9126).
    PushedAuthorization,
    /// `GET /jwks`, the server's signing keys.
    Jwks,
}

/// What to do instead of (or before) answering normally.
///
/// ```
/// use std::time::Duration;
/// use oauth2_kit_testkit::Fault;
///
/// // A 503 with a Retry-After header, after half a second.
/// let fault = Fault::status(503).header("retry-after", "7").delay(Duration::from_millis(500));
/// # drop(fault);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Fault {
    pub(crate) delay: Option<Duration>,
    pub(crate) status: Option<StatusCode>,
    pub(crate) body: Option<Bytes>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) delivery: Delivery,
}

/// How a faulted body is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// All at once.
    #[default]
    Whole,
    /// The body, then the connection is dropped before the declared length is reached.
    CloseMidBody,
    /// One byte every so often.
    Trickle(Duration),
}

impl Fault {
    /// Answer normally, but only after `delay`.
    pub fn delayed(delay: Duration) -> Self {
        Self { delay: Some(delay), ..Self::default() }
    }

    /// Answer with this status (and an empty body unless [`body`](Self::body) is set) instead of
    /// the normal answer. An invalid status code becomes 500.
    pub fn status(status: u16) -> Self {
        Self {
            status: Some(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)),
            ..Self::default()
        }
    }

    /// Answer `200 OK` with this body instead of the normal answer.
    pub fn body(body: impl Into<Bytes>) -> Self {
        Self { body: Some(body.into()), ..Self::default() }
    }

    /// Also wait `delay` before answering.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Also replace the body.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Also send this header. Invalid names or values are skipped.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            self.headers.push((name, value));
        }
        self
    }

    /// Also send this header with a value given as bytes, which need not be UTF-8 (bytes 0x80 to
    /// 0xFF are allowed in header values, as obsolete text). Invalid names or values are skipped.
    pub fn header_bytes(mut self, name: &str, value: &[u8]) -> Self {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_bytes(value)) {
            self.headers.push((name, value));
        }
        self
    }

    /// Answer `200 OK` with a chunked body: send `body`, then drop the connection before the
    /// last chunk (a server crashing mid-response).
    pub fn close_mid_body(body: impl Into<Bytes>) -> Self {
        Self { body: Some(body.into()), delivery: Delivery::CloseMidBody, ..Self::default() }
    }

    /// Answer `200 OK` with `body`, one byte every `every` (a server slower than any timeout).
    pub fn trickle(body: impl Into<Bytes>, every: Duration) -> Self {
        Self { body: Some(body.into()), delivery: Delivery::Trickle(every), ..Self::default() }
    }

    /// Whether the fault replaces the normal answer (rather than only delaying it).
    pub(crate) fn replaces_answer(&self) -> bool {
        self.status.is_some() || self.body.is_some() || !self.headers.is_empty()
    }
}

/// Faults waiting to be applied, per route, in order.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    queues: HashMap<Route, VecDeque<Fault>>,
}

impl FaultQueue {
    pub(crate) fn push(&mut self, route: Route, fault: Fault, times: usize) {
        self.queues.entry(route).or_default().extend(std::iter::repeat_n(fault, times));
    }

    pub(crate) fn next(&mut self, route: Route) -> Option<Fault> {
        self.queues.get_mut(&route)?.pop_front()
    }

    pub(crate) fn clear(&mut self) {
        self.queues.clear();
    }
}
