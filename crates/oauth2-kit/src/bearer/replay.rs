//! The copy of a request kept for one retry after a rejected token, made without allocating on
//! the fresh path: the header bytes are copied into buffers reused across requests (a few per
//! thread), and a `HeaderMap` is rebuilt from them only if the retry happens.

use std::cell::RefCell;

use http::header::{HeaderName, HeaderValue};
use http::{Extensions, HeaderMap, Method, Request, Uri, Version};
use zeroize::Zeroize;

/// A request head and body, kept for a retry.
pub(crate) struct Replay<B> {
    method: Method,
    uri: Uri,
    version: Version,
    extensions: Extensions,
    body: B,
    headers: Option<Pooled>,
}

/// Buffers that go back to the pool when dropped.
struct Pooled(Buffers);

impl Drop for Pooled {
    fn drop(&mut self) {
        std::mem::take(&mut self.0).give_back();
    }
}

/// One header in the buffers: byte offsets of its name and value, and its sensitivity.
#[derive(Clone, Copy)]
struct Entry {
    name: (u32, u32),
    value: (u32, u32),
    sensitive: bool,
}

/// Header bytes and where each header lies in them.
#[derive(Default)]
struct Buffers {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

/// Buffers kept per thread, and the largest one worth keeping.
const POOLED: usize = 8;
const KEPT_BYTES: usize = 16 * 1024;

thread_local! {
    static POOL: RefCell<Vec<Buffers>> = const { RefCell::new(Vec::new()) };
}

impl Buffers {
    fn take() -> Self {
        POOL.try_with(|pool| pool.borrow_mut().pop()).ok().flatten().unwrap_or_default()
    }

    fn give_back(mut self) {
        if self.bytes.capacity() > KEPT_BYTES {
            return;
        }
        // The bytes may be cookies or API keys: wiped, not just forgotten.
        self.bytes.zeroize();
        self.entries.clear();
        let _ = POOL.try_with(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() < POOLED {
                pool.push(self);
            }
        });
    }

    /// Copies `headers`; `None` if they are too large to index with `u32` offsets.
    fn fill(&mut self, headers: &HeaderMap) -> Option<()> {
        for (name, value) in headers {
            let name = self.push(name.as_str().as_bytes())?;
            let stored = self.push(value.as_bytes())?;
            self.entries.push(Entry { name, value: stored, sensitive: value.is_sensitive() });
        }
        Some(())
    }

    fn push(&mut self, bytes: &[u8]) -> Option<(u32, u32)> {
        let start = u32::try_from(self.bytes.len()).ok()?;
        let len = u32::try_from(bytes.len()).ok()?;
        start.checked_add(len)?;
        self.bytes.extend_from_slice(bytes);
        Some((start, len))
    }

    fn slice(&self, (start, len): (u32, u32)) -> &[u8] {
        let start = start as usize;
        self.bytes.get(start..start + len as usize).unwrap_or_default()
    }

    /// The headers again. Every name and value was valid when copied, so none is lost.
    fn rebuild(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(self.entries.len());
        for entry in &self.entries {
            let name = HeaderName::from_bytes(self.slice(entry.name));
            let value = HeaderValue::from_bytes(self.slice(entry.value));
            if let (Ok(name), Ok(mut value)) = (name, value) {
                value.set_sensitive(entry.sensitive);
                headers.append(name, value);
            }
        }
        headers
    }
}

impl<B> Replay<B> {
    /// A copy of `request`'s head, with `body` (a copy of its body).
    pub(crate) fn of(request: &Request<B>, body: B) -> Self {
        let mut buffers = Pooled(Buffers::take());
        let headers = buffers.0.fill(request.headers()).map(|()| buffers);
        Self {
            method: request.method().clone(),
            uri: request.uri().clone(),
            version: request.version(),
            extensions: request.extensions().clone(),
            body,
            headers,
        }
    }

    /// Whether the copy is complete (headers beyond 4 GiB are not kept).
    pub(crate) fn is_complete(&self) -> bool {
        self.headers.is_some()
    }

    /// The request, to send again.
    pub(crate) fn into_request(self) -> Request<B> {
        let headers = self.headers.as_ref().map(|buffers| buffers.0.rebuild());
        let mut request = Request::new(self.body);
        *request.method_mut() = self.method;
        *request.uri_mut() = self.uri;
        *request.version_mut() = self.version;
        *request.extensions_mut() = self.extensions;
        *request.headers_mut() = headers.unwrap_or_default();
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Marker(u8);

    fn request() -> Request<&'static str> {
        let mut request = Request::post("https://api.example.com/x?y=1")
            .version(Version::HTTP_2)
            .header("x-custom", "one")
            .header("x-custom", "two")
            .header("accept", "application/json")
            .extension(Marker(7))
            .body("payload")
            .unwrap();
        let mut secret = HeaderValue::from_static("s3cret");
        secret.set_sensitive(true);
        request.headers_mut().insert("x-api-key", secret);
        request
    }

    #[test]
    fn the_copy_is_the_request() {
        let original = request();
        let copy = Replay::of(&original, *original.body());
        assert!(copy.is_complete());
        let copy = copy.into_request();
        assert_eq!(copy.method(), original.method());
        assert_eq!(copy.uri(), original.uri());
        assert_eq!(copy.version(), original.version());
        assert_eq!(copy.headers(), original.headers());
        assert_eq!(copy.headers().get_all("x-custom").iter().count(), 2);
        assert!(copy.headers()["x-api-key"].is_sensitive());
        assert!(!copy.headers()["accept"].is_sensitive());
        assert_eq!(copy.extensions().get::<Marker>(), Some(&Marker(7)));
        assert_eq!(*copy.body(), "payload");
    }

    #[test]
    fn buffers_are_reused() {
        let original = request();
        drop(Replay::of(&original, ""));
        let pooled = POOL.with(|pool| pool.borrow().len());
        assert!(pooled >= 1);
        let again = Replay::of(&original, "");
        assert_eq!(POOL.with(|pool| pool.borrow().len()), pooled - 1, "taken from the pool");
        drop(again.into_request());
        assert_eq!(POOL.with(|pool| pool.borrow().len()), pooled, "and given back");
    }
}
