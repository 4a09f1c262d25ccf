//! `DeviceAuthorization::from_json`: never panics; the interval is bounded; `Debug` hides the
//! device code; the expiry computes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_kit::grant::device_code::{DeviceAuthorization, MAX_INTERVAL};
use oauth2_kit::{Clock as _, SystemClock};

fuzz_target!(|data: &[u8]| {
    if let Ok(auth) = DeviceAuthorization::from_json(data, SystemClock.now()) {
        assert!(auth.interval() <= MAX_INTERVAL && !auth.interval().is_zero());
        let _ = auth.expires_at();
        assert!(format!("{auth:?}").contains("DeviceCode([redacted])"));
    }
});
