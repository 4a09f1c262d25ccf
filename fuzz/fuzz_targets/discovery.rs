//! `ServerMetadata::from_json` and the endpoint accessors: never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(metadata) = oauth2_kit::discovery::ServerMetadata::from_json(data) {
        let _ = format!("{metadata:?}");
        let _ = metadata.token_endpoint();
        let _ = metadata.introspection_endpoint();
        let _ = metadata.revocation_endpoint();
        for kind in [
            oauth2_kit::discovery::MetadataKind::OpenIdConfiguration,
            oauth2_kit::discovery::MetadataKind::OAuthAuthorizationServer,
        ] {
            let _ = kind.url(&metadata.issuer);
        }
    }
});
