//! The copy of a request kept for one retry after a rejected token, made without allocating on
//! the fresh path: the header bytes are copied into buffers reused across requests (a few per
//! thread), and a `HeaderMap` is rebuilt from them only if the retry happens.

use std::cell::RefCell;

use http::header::{HeaderName, HeaderValue};
use http::{Extensions, HeaderMap, Method, Request, Uri, Version};
use zeroize::Zeroize;

/// A request head and body, kept for a retry. The head lives in a pooled slot, so the copy is a
/// few words to move around and allocates nothing once the pool is warm.
pub(crate) struct Replay<B> {
    slot: Pooled,
    body: B,
    complete: bool,
}

/// One header in the slot's bytes: where its name and value lie, and its sensitivity.
#[derive(Clone, Copy)]
struct Entry {
    name: (usize, usize),
    value: (usize, usize),
    sensitive: bool,
}

/// A request head: its small parts cloned (reference counts), its header bytes copied.
#[derive(Default)]
struct Slot {
    method: Option<Method>,
    uri: Option<Uri>,
    version: Version,
    extensions: Option<Extensions>,
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

/// Slots kept per thread, and the largest header size worth keeping a slot for.
const POOLED: usize = 8;
const KEPT_BYTES: usize = 16 * 1024;

thread_local! {
    // Boxed on purpose: a slot is handed out as its box, which a request's future holds as one
    // pointer, and returned the same way: no allocation and no large move either way.
    #[allow(clippy::vec_box)]
    static POOL: RefCell<Vec<Box<Slot>>> = const { RefCell::new(Vec::new()) };
}

/// A slot that goes back to the pool, emptied, when dropped.
struct Pooled(Option<Box<Slot>>);

impl Pooled {
    fn take() -> Self {
        let slot = POOL.try_with(|pool| pool.borrow_mut().pop()).ok().flatten();
        Self(Some(slot.unwrap_or_default()))
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(mut slot) = self.0.take() else { return };
        slot.method = None;
        slot.uri = None;
        slot.extensions = None;
        // The bytes may be cookies or API keys: wiped, not just forgotten. Only the written part
        // needs it: what lay beyond was wiped when its earlier user gave the slot back.
        slot.bytes.as_mut_slice().zeroize();
        slot.bytes.clear();
        slot.entries.clear();
        if slot.bytes.capacity() > KEPT_BYTES {
            return;
        }
        let _ = POOL.try_with(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() < POOLED {
                pool.push(slot);
            }
        });
    }
}

impl Slot {
    fn fill<B>(&mut self, request: &Request<B>) {
        self.method = Some(request.method().clone());
        self.uri = Some(request.uri().clone());
        self.version = request.version();
        self.extensions = Some(request.extensions().clone());
        let headers = request.headers();
        self.entries.reserve(headers.len());
        for (name, value) in headers {
            let (name, value_bytes) = (name.as_str().as_bytes(), value.as_bytes());
            // One capacity check for both; the pooled buffer rarely needs to grow.
            self.bytes.reserve(name.len() + value_bytes.len());
            let start = self.bytes.len();
            self.bytes.extend_from_slice(name);
            let middle = self.bytes.len();
            self.bytes.extend_from_slice(value_bytes);
            let end = self.bytes.len();
            self.entries.push(Entry {
                name: (start, middle),
                value: (middle, end),
                sensitive: value.is_sensitive(),
            });
        }
    }

    fn slice(&self, (start, end): (usize, usize)) -> &[u8] {
        self.bytes.get(start..end).unwrap_or_default()
    }

    /// The headers again. Every name and value was valid when copied, so none is lost.
    fn headers(&self) -> HeaderMap {
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
        let mut slot = Pooled::take();
        let complete = match &mut slot.0 {
            Some(head) => {
                head.fill(request);
                true
            }
            None => false,
        };
        Self { slot, body, complete }
    }

    /// Whether the copy is complete.
    pub(crate) fn is_complete(&self) -> bool {
        self.complete
    }

    /// The request, to send again.
    pub(crate) fn into_request(mut self) -> Request<B> {
        let mut request = Request::new(self.body);
        if let Some(head) = self.slot.0.as_mut() {
            *request.headers_mut() = head.headers();
            *request.method_mut() = head.method.take().unwrap_or_default();
            *request.uri_mut() = head.uri.take().unwrap_or_default();
            *request.version_mut() = head.version;
            *request.extensions_mut() = head.extensions.take().unwrap_or_default();
        }
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
        let emptied = POOL.with(|pool| {
            let pool = pool.borrow();
            let slot = pool.last().unwrap();
            slot.uri.is_none() && slot.bytes.is_empty() && slot.entries.is_empty()
        });
        assert!(emptied, "a pooled slot keeps nothing of the request");
    }
}
