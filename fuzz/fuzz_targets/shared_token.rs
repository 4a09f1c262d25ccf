//! The fleet cache's stored form (`SharedToken::from_json`, what a shared store such as Redis
//! hands back): never panics, whatever the bytes; a decoded token encodes and decodes to the
//! same token, issue time and lifetime; `Debug` does not depend on the access token.
#![no_main]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use oauth2_kit::cache::shared::SharedToken;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let wall_now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let Ok(shared) = SharedToken::from_json(data, now, wall_now) else { return };
    let secret = shared.token.access_token().expose_secret().to_owned();
    let stored = shared.to_json();
    let again = SharedToken::from_json(&stored, now, wall_now).expect("its own form decodes");
    assert_eq!(again.token.access_token().expose_secret(), secret);
    assert_eq!(again.token.scope(), shared.token.scope());
    assert_eq!(again.lifetime, shared.lifetime);
    // Kept to the millisecond.
    let millis = |t: SystemTime| t.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    assert_eq!(millis(again.issued_at), millis(shared.issued_at));

    // The stored form with another token of the same length prints the same. (Exact: text shown
    // on purpose, such as a token type equal to the token, is the same in both.)
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(&stored) else {
        panic!("the stored form is a JSON object")
    };
    object.insert("access_token".into(), Value::String("Z".repeat(secret.chars().count())));
    let changed = serde_json::to_vec(&object).expect("a JSON value encodes");
    if let Ok(other) = SharedToken::from_json(&changed, now, wall_now) {
        assert_eq!(format!("{again:?}"), format!("{other:?}"), "Debug shows the access token");
    }
});
