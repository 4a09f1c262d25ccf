//! Login callbacks (`Callback::from_query`): never panic; `Debug` hides code and state.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_kit::grant::authorization_code::Callback;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    if let Ok(callback) = Callback::from_query(query) {
        let shown = format!("{callback:?}");
        // The fields shown on purpose (the error, the issuer) may hold the same text.
        let public = format!("{:?} {:?}", callback.error(), callback.issuer());
        if let Some(code) = callback.code().map(|c| c.expose_secret()).filter(|c| c.len() >= 12 && !public.contains(*c)) {
            assert!(!shown.contains(code), "Debug shows the code");
        }
        let _ = callback.error().map(ToString::to_string);
    }
});
