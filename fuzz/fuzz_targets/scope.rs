//! `Scope` parsing: never panics; a parsed scope is canonical (parsing its text gives it back)
//! and its error messages never echo the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_kit::Scope;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match text.parse::<Scope>() {
        Ok(scope) => {
            let again: Scope = scope.as_str().parse().expect("a canonical scope parses");
            assert_eq!(again, scope);
            assert_eq!(again.as_str(), scope.as_str());
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
