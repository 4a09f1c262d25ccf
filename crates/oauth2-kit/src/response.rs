//! Reading an authorization server's answers that reached you by other means than the
//! library's clients: a transport of your own, a recorded response, a test.
//!
//! Each function classifies a response exactly as the clients do, in this order:
//!
//! 1. a JSON object with a string `error` member, whatever the status (a `200 OK` included), or
//!    (for a non-2xx status) an RFC 6750 `Bearer` challenge in `WWW-Authenticate`:
//!    [`Error::OAuth2`](crate::Error::OAuth2);
//! 2. another non-2xx status: [`Error::UnexpectedStatus`](crate::Error::UnexpectedStatus), with a body excerpt that never shows
//!    a credential-named member;
//! 3. a 2xx body that is not the expected document: [`Error::Decode`](crate::Error::Decode);
//! 4. otherwise the decoded document.
//!
//! The clients also take out of every error text the secrets their request carried (a server
//! may echo them back). These functions do not know the request, so they cannot: keep the
//! errors of a server you do not trust out of your logs, or use the clients.
//!
//! ```
//! use std::time::Instant;
//! use oauth2_kit::{Error, ErrorCode, response};
//!
//! let ok = http::Response::builder()
//!     .status(200)
//!     .body(r#"{"access_token":"at-1","token_type":"Bearer","expires_in":3600}"#.into())?;
//! let token = response::token(ok, Instant::now())?;
//! assert_eq!(token.expires_in(), Some(std::time::Duration::from_secs(3600)));
//!
//! let refused = http::Response::builder().status(400).body(r#"{"error":"invalid_grant"}"#.into())?;
//! let error = response::token(refused, Instant::now()).unwrap_err();
//! assert_eq!(error.oauth2().unwrap().response.error, ErrorCode::InvalidGrant);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Instant;

use crate::discovery::ServerMetadata;
use crate::error::Result;
use crate::exchange::Answer;
use crate::grant::device_code::DeviceAuthorization;
use crate::http::HttpResponse;
use crate::introspection::IntrospectionResponse;
use crate::issuer::Issuer;
use crate::token::TokenResponse;
use crate::userinfo::UserInfo;

/// A token endpoint's answer (RFC 6749 §5.1, §5.2) to a request sent at `requested_at` (from
/// which the token's lifetime is counted).
pub fn token(response: HttpResponse, requested_at: Instant) -> Result<TokenResponse> {
    Answer::from_response(response, requested_at).json(TokenResponse::from_object)
}

/// An introspection endpoint's answer (RFC 7662 §2.2, §2.3).
pub fn introspection(response: HttpResponse) -> Result<IntrospectionResponse> {
    answer(response).json(|object, _| IntrospectionResponse::from_object(object))
}

/// A revocation endpoint's answer (RFC 7009 §2.2): any 2xx without an error body is success,
/// whatever the body holds.
pub fn revocation(response: HttpResponse) -> Result<()> {
    answer(response).success()
}

/// A device authorization endpoint's answer (RFC 8628 §3.2) to a request sent at
/// `requested_at` (from which the codes' lifetime is counted).
pub fn device_authorization(response: HttpResponse, requested_at: Instant) -> Result<DeviceAuthorization> {
    Answer::from_response(response, requested_at).json(DeviceAuthorization::from_object)
}

/// A UserInfo endpoint's answer (OpenID Connect Core §5.3.2); a signed or encrypted one
/// (`application/jwt`) is refused.
pub fn userinfo(response: HttpResponse) -> Result<UserInfo> {
    crate::userinfo::read(answer(response))
}

/// A metadata document (RFC 8414 §3.2, OpenID Connect Discovery §4.2) fetched for `issuer`: its
/// `issuer` must be exactly `issuer`.
pub fn server_metadata(response: HttpResponse, issuer: &Issuer) -> Result<ServerMetadata> {
    crate::discovery::read(answer(response), issuer)
}

fn answer(response: HttpResponse) -> Answer {
    // No lifetime is counted from these documents' arrival.
    Answer::from_response(response, crate::Clock::now(&crate::clock::SystemClock))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        let mut builder = http::Response::builder().status(status);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(bytes::Bytes::copy_from_slice(body.as_bytes())).unwrap()
    }

    /// Every kind classifies an error body, a bare status and an undecodable success alike.
    #[test]
    fn every_kind_classifies_the_same_way() {
        let now = crate::Clock::now(&crate::SystemClock);
        let issuer: Issuer = "https://as.example".parse().unwrap();
        type Read<'a> = &'a dyn Fn(HttpResponse) -> Result<()>;
        let kinds: [(&str, Read<'_>); 6] = [
            ("token", &|r| token(r, now).map(drop)),
            ("introspection", &|r| introspection(r).map(drop)),
            ("revocation", &revocation),
            ("device", &|r| device_authorization(r, now).map(drop)),
            ("userinfo", &|r| userinfo(r).map(drop)),
            ("metadata", &|r| server_metadata(r, &issuer).map(drop)),
        ];
        for (kind, read) in kinds {
            let error = read(answer(200, &[], r#"{"error":"invalid_request","error_description":"no"}"#))
                .unwrap_err();
            assert!(matches!(&error, Error::OAuth2(e) if e.status == 200), "{kind}: {error:?}");
            let error = read(answer(401, &[("www-authenticate", r#"Bearer error="invalid_token""#)], ""))
                .unwrap_err();
            assert_eq!(error.oauth2().map(|e| e.response.error.as_str()), Some("invalid_token"), "{kind}");
            let error = read(answer(502, &[("retry-after", "3")], "<html>bad gateway</html>")).unwrap_err();
            assert!(matches!(&error, Error::UnexpectedStatus { .. }), "{kind}: {error:?}");
            assert_eq!(error.retry_after(), Some(std::time::Duration::from_secs(3)), "{kind}");
            if kind != "revocation" {
                let error = read(answer(200, &[], r#"{"unexpected":true}"#)).unwrap_err();
                assert!(matches!(&error, Error::Decode { .. }), "{kind}: {error:?}");
            }
        }
        let ok = [
            token(answer(200, &[], r#"{"access_token":"a","token_type":"Bearer"}"#), now).is_ok(),
            introspection(answer(200, &[], r#"{"active":false}"#)).is_ok(),
            revocation(answer(200, &[], "")).is_ok(),
            device_authorization(
                answer(
                    200,
                    &[],
                    r#"{"device_code":"d","user_code":"u","verification_uri":"https://a","expires_in":9}"#,
                ),
                now,
            )
            .is_ok(),
            userinfo(answer(200, &[], r#"{"sub":"u1"}"#)).is_ok(),
            server_metadata(answer(200, &[], r#"{"issuer":"https://as.example"}"#), &issuer).is_ok(),
        ];
        assert_eq!(ok, [true; 6]);
        // The metadata's issuer must be exactly the one asked for.
        assert!(server_metadata(answer(200, &[], r#"{"issuer":"https://as.example/"}"#), &issuer).is_err());
    }
}
