//! `UserInfo::from_json`: never panics; `Debug` shows no claim value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = oauth2_kit::userinfo::UserInfo::from_json(data) {
        let shown = format!("{info:?}");
        // `sub` and the names of extra claims are shown on purpose and may hold the same text.
        let public = format!("{} {:?}", info.sub, info.extra.keys().collect::<Vec<_>>());
        if let Some(email) = info.email.as_deref().filter(|e| e.len() >= 12 && !public.contains(*e)) {
            assert!(!shown.contains(email), "Debug shows the e-mail");
        }
    }
});
