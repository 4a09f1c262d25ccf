//! The nonces servers hand out for DPoP proofs (RFC 9449 §8, §9), remembered per origin.

use std::sync::{Arc, Mutex};

use http::{HeaderMap, Uri};

/// The response header carrying a server's nonce.
pub(crate) const DPOP_NONCE: &str = "dpop-nonce";

/// Origins remembered at most: a client talks to a few servers; a hostile one cannot make the
/// list grow without bound by redirecting it to many.
const ORIGINS: usize = 32;

/// The longest nonce kept. RFC 9449 sets no bound; servers send a few dozen characters.
const MAX_NONCE: usize = 1024;

/// The last nonce of each origin (`scheme://authority`), newest last.
#[derive(Default)]
pub(super) struct Nonces {
    entries: Mutex<Vec<Entry>>,
}

struct Entry {
    https: bool,
    authority: http::uri::Authority,
    nonce: Arc<str>,
}

impl Entry {
    fn is_for(&self, uri: &Uri) -> bool {
        self.https == is_https(uri) && uri.authority() == Some(&self.authority)
    }
}

fn is_https(uri: &Uri) -> bool {
    uri.scheme() == Some(&http::uri::Scheme::HTTPS)
}

impl Nonces {
    /// The nonce the origin of `uri` last gave.
    pub(super) fn get(&self, uri: &Uri) -> Option<Arc<str>> {
        let entries = crate::sync::lock(&self.entries);
        entries.iter().find(|entry| entry.is_for(uri)).map(|entry| Arc::clone(&entry.nonce))
    }

    /// Keeps the nonce of a response from the origin of `uri` (its `DPoP-Nonce` header, when it
    /// has a valid one): returns it, and whether it differs from the one kept before.
    pub(super) fn observe(&self, uri: &Uri, headers: &HeaderMap) -> Option<(Arc<str>, bool)> {
        let nonce = headers.get(DPOP_NONCE).and_then(|value| valid(value.as_bytes()))?;
        let authority = uri.authority()?;
        let mut entries = crate::sync::lock(&self.entries);
        if let Some(entry) = entries.iter_mut().find(|entry| entry.is_for(uri)) {
            if *entry.nonce == *nonce {
                return Some((Arc::clone(&entry.nonce), false));
            }
            entry.nonce = Arc::from(nonce);
            return Some((Arc::clone(&entry.nonce), true));
        }
        if entries.len() >= ORIGINS {
            entries.remove(0);
        }
        let nonce: Arc<str> = Arc::from(nonce);
        entries.push(Entry { https: is_https(uri), authority: authority.clone(), nonce: Arc::clone(&nonce) });
        Some((nonce, true))
    }
}

/// A nonce as RFC 9449 §8.1 allows it (`1*NQCHAR`: printable ASCII but `"` and `\`), not
/// longer than [`MAX_NONCE`].
fn valid(bytes: &[u8]) -> Option<&str> {
    let allowed = |b: &u8| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E);
    if bytes.is_empty() || bytes.len() > MAX_NONCE || !bytes.iter().all(allowed) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn nonce(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(DPOP_NONCE, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn nonces_are_kept_per_origin_and_changes_reported() {
        let nonces = Nonces::default();
        let auth: Uri = "https://auth.example.com/token".parse().unwrap();
        let api: Uri = "https://api.example.com/orders?page=2".parse().unwrap();
        assert!(nonces.observe(&auth, &nonce("n-1")).unwrap().1);
        assert!(!nonces.observe(&auth, &nonce("n-1")).unwrap().1, "the same nonce again is no change");
        assert!(nonces.observe(&auth, &HeaderMap::new()).is_none(), "a response without one keeps it");
        assert_eq!(nonces.get(&"https://AUTH.example.com/other".parse().unwrap()).as_deref(), Some("n-1"));
        assert_eq!(nonces.get(&api), None);
        assert_eq!(nonces.get(&"http://auth.example.com/token".parse().unwrap()), None, "another scheme");
        assert!(nonces.observe(&api, &nonce("a-1")).unwrap().1);
        assert!(nonces.observe(&auth, &nonce("n-2")).unwrap().1);
        assert_eq!(nonces.get(&auth).as_deref(), Some("n-2"));
        assert_eq!(nonces.get(&api).as_deref(), Some("a-1"));
    }

    #[test]
    fn invalid_nonces_are_ignored_and_origins_bounded() {
        let nonces = Nonces::default();
        let uri: Uri = "https://auth.example.com/token".parse().unwrap();
        for bad in ["", "with space", "quote\"d", "back\\slash"] {
            let mut headers = HeaderMap::new();
            headers.insert(DPOP_NONCE, HeaderValue::from_str(bad).unwrap());
            assert!(nonces.observe(&uri, &headers).is_none(), "{bad:?}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(DPOP_NONCE, HeaderValue::from_str(&"n".repeat(MAX_NONCE + 1)).unwrap());
        assert!(nonces.observe(&uri, &headers).is_none());
        assert_eq!(nonces.get(&uri), None);
        for port in 0..100u16 {
            let uri: Uri = format!("https://auth.example.com:{}/", 1000 + port).parse().unwrap();
            nonces.observe(&uri, &nonce("n"));
        }
        assert_eq!(crate::sync::lock(&nonces.entries).len(), ORIGINS);
        assert!(nonces.get(&"https://auth.example.com:1099/".parse().unwrap()).is_some(), "the newest kept");
        assert!(nonces.get(&"https://auth.example.com:1000/".parse().unwrap()).is_none(), "the oldest gone");
    }
}
