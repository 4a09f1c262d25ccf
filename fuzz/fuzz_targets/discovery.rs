//! `ServerMetadata::from_json` and the server it describes (`AuthorizationServer::from_metadata`
//! and its endpoints): never panic; the issuer is kept as
//! written (it re-parses to itself).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(metadata) = oauth2_kit::discovery::ServerMetadata::from_json(data) {
        let _ = format!("{metadata:?}");
        let server = oauth2_kit::AuthorizationServer::from_metadata(&metadata);
        let _ = format!("{server:?}");
        for kind in [
            oauth2_kit::EndpointKind::Authorization,
            oauth2_kit::EndpointKind::Token,
            oauth2_kit::EndpointKind::Introspection,
            oauth2_kit::EndpointKind::Revocation,
            oauth2_kit::EndpointKind::UserInfo,
            oauth2_kit::EndpointKind::DeviceAuthorization,
            oauth2_kit::EndpointKind::EndSession,
        ] {
            let _ = (server.has(kind), server.endpoint(kind));
        }
        for kind in [
            oauth2_kit::discovery::MetadataKind::OpenIdConfiguration,
            oauth2_kit::discovery::MetadataKind::OAuthAuthorizationServer,
        ] {
            let _ = kind.url(metadata.issuer.url());
        }
        let again: oauth2_kit::Issuer = metadata.issuer.as_str().parse().expect("an issuer re-parses");
        assert_eq!(again, metadata.issuer);
        let _ = (metadata.grant_types(), metadata.token_endpoint_auth_methods(), metadata.response_modes());
    }
});
