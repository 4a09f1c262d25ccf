//! `UserInfo::from_json`: never panics; `Debug` does not depend on the e-mail claim.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_kit::userinfo::UserInfo;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if UserInfo::from_json(data).is_err() {
        return;
    }
    // The canonical body and the same with the e-mail replaced by `Z`s print the same. (Exact:
    // `sub` and the names of extra claims are shown on purpose and may hold the same text.)
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(data) else { return };
    let Some(Value::String(email)) = object.get("email") else { return };
    let other = "Z".repeat(email.chars().count());
    let canonical = serde_json::to_vec(&object).expect("a JSON value encodes");
    object.insert("email".into(), Value::String(other));
    let changed = serde_json::to_vec(&object).expect("a JSON value encodes");
    if let (Ok(a), Ok(b)) = (UserInfo::from_json(&canonical), UserInfo::from_json(&changed)) {
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "Debug shows the e-mail");
    }
});
