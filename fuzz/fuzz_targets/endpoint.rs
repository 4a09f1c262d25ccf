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
            let before_query = &url.as_str()[..url.as_str().find('?').unwrap_or(0)];
            // What is shown on purpose: the URL before the query, and a `?` marking it. A query
            // that is part of that text is not a finding.
            if query.len() >= 8 && !format!("{before_query}?").contains(query) {
                let shown = format!("{endpoint} {endpoint:?}");
                assert!(!shown.contains(query), "an endpoint shows its query");
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
