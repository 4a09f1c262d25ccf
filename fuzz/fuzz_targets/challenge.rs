//! `WWW-Authenticate` parsing: never panics; an error's position is inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_kit::bearer::Challenge;

fuzz_target!(|data: &[u8]| {
    match Challenge::parse(data) {
        Ok(challenges) => {
            for challenge in &challenges {
                let _ = (
                    challenge.scheme(),
                    challenge.is_bearer(),
                    challenge.token68(),
                    challenge.param("error"),
                );
                let _ = challenge.params().count();
            }
        }
        Err(error) => {
            assert!(error.position <= data.len(), "position {} past {}", error.position, data.len());
            let _ = error.to_string();
        }
    }
});
