//! `Endpoint` and `Origin` parsing (configuration a service may read from its environment):
//! never panics; an endpoint's `Display` and `Debug` never show its query (it may carry an API
//! key); an origin re-parses from its own text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_kit::Endpoint;
use oauth2_kit::bearer::Origin;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(endpoint) = text.parse::<Endpoint>() {
        let url = endpoint.url();
        if let Some(query) = url.query() {
            // The same endpoint with its query replaced by `Z`s of the same length shows the
            // same text. (Exact: the URL before the query is shown on purpose and may hold the
            // same text as the query.)
            let at = url[..url::Position::AfterPath].len();
            let mut changed = url.as_str().to_owned();
            changed.replace_range(at + 1..at + 1 + query.len(), &"Z".repeat(query.len()));
            if let Ok(other) = changed.parse::<Endpoint>() {
                let shown = |e: &Endpoint| format!("{e} {e:?}");
                assert_eq!(shown(&endpoint), shown(&other), "an endpoint shows its query");
            }
        }
        let _ = (endpoint.is_loopback(), endpoint.as_str());
    }
    match text.parse::<Origin>() {
        Ok(origin) => {
            let again: Origin = origin.to_string().parse().expect("an origin's own text parses");
            assert_eq!(again, origin);
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
