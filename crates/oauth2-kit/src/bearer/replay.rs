//! The copy of a request kept for one retry after a rejected token, made without allocating on
//! the fresh path: the URI and header bytes are copied into buffers reused across requests (a
//! few per thread), and a `Uri` and a `HeaderMap` are rebuilt from them only if the retry
//! happens. Copying bytes instead of cloning the `Uri` also spares a parsed URI's shared buffers
//! their reference counts (and, for a URI never cloned before, an allocation).

use std::cell::RefCell;

use http::header::{HeaderName, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Extensions, HeaderMap, Method, Request, Uri, Version};
use zeroize::Zeroize;

/// A request head and body, kept for a retry. The head lives in a pooled slot, so the copy is
/// two pointers and a body to move around, and allocates nothing once the pool is warm.
pub(crate) struct Replay<B> {
    slot: Pooled,
    body: B,
}

/// Where a part lies in a slot's bytes.
type Span = (usize, usize);

/// One header in the slot's bytes: its name from `start` to `split`, its value from there to
/// `end`, and its sensitivity.
#[derive(Clone, Copy)]
struct Entry {
    start: usize,
    split: usize,
    end: usize,
    sensitive: bool,
}

/// A request head: its small parts cloned, its URI and headers copied as bytes.
#[derive(Default)]
struct Slot {
    method: Method,
    version: Version,
    extensions: Extensions,
    bytes: Vec<u8>,
    scheme: Option<Scheme>,
    authority: Option<Span>,
    path_and_query: Option<Span>,
    entries: Vec<Entry>,
}

/// Slots kept per thread, and the largest copy worth keeping a slot for.
const POOLED: usize = 8;
const KEPT_BYTES: usize = 16 * 1024;

thread_local! {
    // Boxed on purpose: a slot is handed out as its box, which a request's future holds as one
    // pointer, and returned the same way: no allocation and no large move either way.
    #[allow(clippy::vec_box)]
    static POOL: RefCell<Vec<Box<Slot>>> = const { RefCell::new(Vec::new()) };
}

/// A slot that goes back to the pool, emptied, when dropped (always `Some` until then).
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
        slot.method = Method::GET;
        slot.extensions = Extensions::new();
        slot.scheme = None;
        // The bytes may be cookies, API keys or a query's secrets: wiped, not just forgotten.
        // Only the written part needs it: what lay beyond was wiped when its earlier user gave
        // the slot back.
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
    /// Appends `part`, returning where it lies.
    #[inline(always)]
    fn push(&mut self, part: &[u8]) -> Span {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(part);
        (start, self.bytes.len())
    }

    fn fill<B>(&mut self, request: &Request<B>) {
        self.method = request.method().clone();
        self.version = request.version();
        self.extensions = request.extensions().clone();
        let uri = request.uri();
        let headers = request.headers();
        self.scheme = uri.scheme().cloned();
        self.authority = uri.authority().map(|a| self.push(a.as_str().as_bytes()));
        self.path_and_query = uri.path_and_query().map(|p| self.push(p.as_str().as_bytes()));
        for (name, value) in headers {
            let start = self.bytes.len();
            self.bytes.extend_from_slice(name.as_str().as_bytes());
            let split = self.bytes.len();
            self.bytes.extend_from_slice(value.as_bytes());
            self.entries.push(Entry { start, split, end: self.bytes.len(), sensitive: value.is_sensitive() });
        }
    }

    fn slice(&self, (start, end): Span) -> &[u8] {
        self.bytes.get(start..end).unwrap_or_default()
    }

    /// The URI again, part for part; `None` only if a part no longer parses, which cannot
    /// happen to parts taken from a `Uri`.
    fn uri(&mut self) -> Option<Uri> {
        let mut parts = http::uri::Parts::default();
        parts.scheme = self.scheme.take();
        parts.authority = self.authority.map(|a| Authority::try_from(self.slice(a))).transpose().ok()?;
        parts.path_and_query =
            self.path_and_query.map(|p| PathAndQuery::try_from(self.slice(p))).transpose().ok()?;
        Uri::from_parts(parts).ok()
    }

    /// The headers again. Every name and value was valid when copied, so none is lost.
    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(self.entries.len());
        for entry in &self.entries {
            let name = HeaderName::from_bytes(self.slice((entry.start, entry.split)));
            let value = HeaderValue::from_bytes(self.slice((entry.split, entry.end)));
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
        if let Some(head) = slot.0.as_deref_mut() {
            head.fill(request);
        }
        Self { slot, body }
    }

    /// The request, to send again; `None` if its URI could not be rebuilt (which a URI taken
    /// from a request never causes).
    pub(crate) fn into_request(mut self) -> Option<Request<B>> {
        let head = self.slot.0.as_deref_mut()?;
        let uri = head.uri()?;
        let mut request = Request::new(self.body);
        *request.headers_mut() = head.headers();
        *request.method_mut() = std::mem::take(&mut head.method);
        *request.uri_mut() = uri;
        *request.version_mut() = head.version;
        *request.extensions_mut() = std::mem::take(&mut head.extensions);
        Some(request)
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
        let copy = Replay::of(&original, *original.body()).into_request().unwrap();
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
            slot.bytes.is_empty() && slot.entries.is_empty()
        });
        assert!(emptied, "a pooled slot keeps nothing of the request");
    }

    #[test]
    fn every_form_of_uri_is_copied_part_for_part() {
        for text in [
            "https://user:pw@api.example.com:8443/a%20b/c?x=1&y=%2F#",
            "http://127.0.0.1:8080",
            "http://[::1]:9000/only/path",
            "/relative?q=1",
            "*",
            "api.example.com:443",
        ] {
            let uri: Uri = text.parse().unwrap();
            let original = Request::builder().method(Method::OPTIONS).uri(uri).body(()).unwrap();
            let copy = Replay::of(&original, ()).into_request().unwrap();
            assert_eq!(copy.uri(), original.uri(), "{text}");
            assert_eq!(copy.uri().scheme(), original.uri().scheme(), "{text}");
            assert_eq!(copy.uri().authority(), original.uri().authority(), "{text}");
            assert_eq!(copy.uri().path_and_query(), original.uri().path_and_query(), "{text}");
        }
    }

    #[test]
    fn an_extension_method_is_kept() {
        let original =
            Request::builder().method("PROPFIND").uri("https://dav.example.com/").body(()).unwrap();
        let copy = Replay::of(&original, ()).into_request().unwrap();
        assert_eq!(copy.method().as_str(), "PROPFIND");
    }
}
