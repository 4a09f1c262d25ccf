//! The fleet cache's stored form (`SharedToken::from_json`, what a shared store such as Redis
//! hands back): never panics, whatever the bytes; a decoded token encodes and decodes to the
//! same token, issue time and lifetime; `Debug` never shows the access token.
#![no_main]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use oauth2_kit::cache::shared::SharedToken;

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let wall_now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let Ok(shared) = SharedToken::from_json(data, now, wall_now) else { return };
    let secret = shared.token.access_token().expose_secret().to_owned();
    let shown = format!("{shared:?}");
    if secret.len() >= 8 && !shown.replace(&secret, "").is_empty() {
        let public = format!("{:?} {:?}", shared.token.scope(), shared.token.extra());
        if !public.contains(&secret) && !"SharedToken TokenResponse".contains(&secret) {
            assert!(!shown.contains(&secret), "Debug shows the access token");
        }
    }
    let again = SharedToken::from_json(&shared.to_json(), now, wall_now).expect("its own form decodes");
    assert_eq!(again.token.access_token().expose_secret(), secret);
    assert_eq!(again.token.scope(), shared.token.scope());
    assert_eq!(again.lifetime, shared.lifetime);
    // Kept to the millisecond.
    let millis = |t: SystemTime| t.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    assert_eq!(millis(again.issued_at), millis(shared.issued_at));
});
