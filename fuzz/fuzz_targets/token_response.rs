//! `TokenResponse::from_json`: never panics; a decoded token's `Debug` never shows it; expiry
//! arithmetic always computes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_kit::{Clock as _, SystemClock, TokenResponse};

fuzz_target!(|data: &[u8]| {
    let now = SystemClock.now();
    match TokenResponse::from_json(data, now) {
        Ok(token) => {
            let secret = token.access_token().expose_secret();
            let shown = format!("{token:?}");
            // The scope, the type and extra members' names are shown on purpose.
            let public = format!("{:?} {:?} {:?}", token.scope(), token.token_type(), token.extra().keys().collect::<Vec<_>>());
            assert!(secret.len() < 12 || public.contains(secret) || !shown.contains(secret), "Debug shows the access token");
            if token.expires_in().is_some() {
                assert!(token.expires_at().is_some(), "expiry must compute");
            }
            let _ = token.bearer_header();
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
