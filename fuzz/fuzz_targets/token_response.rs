//! `TokenResponse::from_json`: never panics; a decoded token's `Debug` does not depend on the
//! access token (the same body with another token of the same length prints the same); expiry
//! arithmetic always computes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_kit::{Clock as _, SystemClock, TokenResponse};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let now = SystemClock.now();
    match TokenResponse::from_json(data, now) {
        Ok(token) => {
            if token.expires_in().is_some() {
                assert!(token.expires_at().is_some(), "expiry must compute");
            }
            let _ = token.bearer_header();
            debug_hides_the_access_token(data, now);
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});

/// Decodes the body's canonical form twice, once with `access_token` replaced by `Z`s: both must
/// print the same. (Exact: text that is shown on purpose, such as a scope equal to the token,
/// is the same in both.)
fn debug_hides_the_access_token(data: &[u8], now: std::time::Instant) {
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(data) else { return };
    let Some(Value::String(secret)) = object.get("access_token") else { return };
    let other = "Z".repeat(secret.chars().count());
    let canonical = serde_json::to_vec(&object).expect("a JSON value encodes");
    object.insert("access_token".into(), Value::String(other));
    let changed = serde_json::to_vec(&object).expect("a JSON value encodes");
    if let (Ok(a), Ok(b)) =
        (TokenResponse::from_json(&canonical, now), TokenResponse::from_json(&changed, now))
    {
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "Debug shows the access token");
    }
}
