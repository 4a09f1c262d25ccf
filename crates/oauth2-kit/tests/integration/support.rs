//! Shared by the core's integration tests.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::StatusCode;
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};

/// Answers each request with the next scripted `(status, body)` (status 0: a connection
/// failure, 1: a timeout; no answer left: a connection failure); records every request.
#[derive(Default)]
pub(crate) struct Script {
    answers: Mutex<VecDeque<(u16, &'static str)>>,
    sent: Mutex<Vec<HttpRequest>>,
}

impl Script {
    pub(crate) fn new(answers: &[(u16, &'static str)]) -> Arc<Self> {
        Arc::new(Self { answers: Mutex::new(answers.iter().copied().collect()), sent: Mutex::default() })
    }

    pub(crate) fn sent(&self) -> Vec<HttpRequest> {
        self.sent.lock().unwrap().clone()
    }

    /// The form of the `index`th request, as name/value pairs in order.
    pub(crate) fn form(&self, index: usize) -> Vec<(String, String)> {
        let sent = self.sent.lock().unwrap();
        url::form_urlencoded::parse(sent[index].body()).into_owned().collect()
    }
}

#[async_trait::async_trait]
impl HttpClient for Script {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.sent.lock().unwrap().push(request);
        let Some((status, body)) = self.answers.lock().unwrap().pop_front() else {
            return Err(TransportError::new(oauth2_kit::http::TransportErrorKind::Connect));
        };
        if status == 0 {
            return Err(TransportError::new(oauth2_kit::http::TransportErrorKind::Connect));
        }
        if status == 1 {
            return Err(TransportError::new(oauth2_kit::http::TransportErrorKind::Timeout));
        }
        let mut response = http::Response::new(Bytes::from_static(body.as_bytes()));
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        response.headers_mut().insert("content-type", "application/json".parse().unwrap());
        Ok(response)
    }
}

/// A clock that moves only when a [`Runtime::sleep`] is called on it: sleeping is instant and
/// recorded, so polling intervals can be asserted exactly.
#[derive(Debug)]
pub(crate) struct InstantSleeps {
    base: std::time::Instant,
    state: Arc<Mutex<(std::time::Duration, Vec<std::time::Duration>)>>,
}

impl InstantSleeps {
    pub(crate) fn new() -> Arc<Self> {
        use oauth2_kit::Clock as _;
        Arc::new(Self { base: oauth2_kit::SystemClock.now(), state: Arc::default() })
    }

    fn state_handle(&self) -> Arc<Mutex<(std::time::Duration, Vec<std::time::Duration>)>> {
        self.state.clone()
    }

    /// Moves the clock without a sleep.
    pub(crate) fn advance(&self, by: std::time::Duration) {
        self.state.lock().unwrap().0 += by;
    }

    /// Every sleep so far, in whole seconds.
    pub(crate) fn sleeps(&self) -> Vec<u64> {
        self.state.lock().unwrap().1.iter().map(|d| d.as_secs()).collect()
    }
}

impl oauth2_kit::Clock for InstantSleeps {
    fn now(&self) -> std::time::Instant {
        self.base + self.state.lock().unwrap().0
    }

    fn system_time(&self) -> std::time::SystemTime {
        std::time::SystemTime::UNIX_EPOCH
            + std::time::Duration::from_secs(1_700_000_000)
            + self.state.lock().unwrap().0
    }
}

impl oauth2_kit::runtime::Runtime for InstantSleeps {
    fn spawn(&self, task: oauth2_kit::runtime::BoxFuture<()>) -> Result<(), oauth2_kit::runtime::SpawnError> {
        futures_lite::future::block_on(task);
        Ok(())
    }

    fn sleep(&self, duration: std::time::Duration) -> oauth2_kit::runtime::BoxFuture<()> {
        // Time passes when the sleep is first polled: a sleep that loses a race (a timeout
        // beside a request that answered) is never polled, and costs no time.
        let state = self.state_handle();
        Box::pin(async move {
            let mut state = state.lock().unwrap();
            state.0 += duration;
            state.1.push(duration);
        })
    }
}
