//! `IntrospectionResponse::from_json`: never panics; `Debug` never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = oauth2_kit::IntrospectionResponse::from_json(data) {
        let _ = format!("{info:?}");
        let _ = info.expires_at();
    }
});
