//! Login callbacks (`Callback::from_query`): never panic; `Debug` depends on neither the code
//! nor the state.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_kit::grant::authorization_code::Callback;
use url::form_urlencoded;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    let Ok(callback) = Callback::from_query(query) else { return };
    let _ = callback.error().map(ToString::to_string);
    // The canonical query and the same with every `code` and `state` value replaced by `Z`s
    // print the same. (Exact: the error and the issuer are shown on purpose and may hold the
    // same text.)
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let encode = |pairs: &[(String, String)]| {
        form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    };
    let changed: Vec<(String, String)> = pairs
        .iter()
        .map(|(name, value)| match name.as_str() {
            "code" | "state" => (name.clone(), "Z".repeat(value.chars().count())),
            _ => (name.clone(), value.clone()),
        })
        .collect();
    if let (Ok(a), Ok(b)) = (Callback::from_query(&encode(&pairs)), Callback::from_query(&encode(&changed))) {
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "Debug shows the code or the state");
    }
});
