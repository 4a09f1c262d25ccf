//! An introspection response read as the claims of a JWT access token, so that a resource
//! server handles a token alike however it was checked.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::IntrospectionResponse;
use crate::jwt::checks::strict_confirmation;
use crate::jwt::{AccessTokenClaims, JwtError};

impl<C: DeserializeOwned> AccessTokenClaims<C> {
    /// The claims of an introspection response (RFC 7662 §2.2, which names them as RFC 9068
    /// does), so that a resource server handles a token alike whether it was introspected or
    /// read as a JWT. `iss` is empty when the response has none; `username` and the other
    /// members go to `extra`. Check `active` first: this reads the claims, whatever they say.
    pub fn from_introspection(response: &IntrospectionResponse) -> Result<Self, JwtError> {
        let mut extra = response.extra.clone();
        let cnf = match extra.remove("cnf") {
            None | Some(Value::Null) => None,
            Some(cnf) => Some(strict_confirmation(&cnf).ok_or(JwtError::InvalidClaim("cnf"))?),
        };
        let number =
            |name: &str, extra: &mut Map<String, Value>| extra.remove(name).and_then(|value| value.as_i64());
        let text = |name: &str, extra: &mut Map<String, Value>| match extra.remove(name) {
            Some(Value::String(text)) => Some(text),
            _ => None,
        };
        let (auth_time, acr) = (number("auth_time", &mut extra), text("acr", &mut extra));
        let amr = extra.remove("amr").and_then(|amr| serde_json::from_value(amr).ok());
        if let Some(username) = &response.username {
            extra.insert("username".to_owned(), Value::String(username.clone()));
        }
        let extra = C::deserialize(Value::Object(extra)).map_err(|_| JwtError::Malformed)?;
        Ok(Self {
            iss: response.iss.clone().unwrap_or_default(),
            sub: response.sub.clone(),
            aud: response.aud.clone().unwrap_or_default(),
            exp: response.exp,
            iat: response.iat,
            nbf: response.nbf,
            jti: response.jti.clone(),
            client_id: response.client_id.clone(),
            scope: response.scope.clone(),
            auth_time,
            acr,
            amr,
            cnf,
            extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn introspection_responses_read_as_access_token_claims() {
        let response = IntrospectionResponse::from_json(
            br#"{"active":true,"client_id":"c1","username":"jdoe","scope":"read write","sub":"u1",
                "aud":"https://api.example","iss":"https://as.example","exp":1419356238,"iat":1419350238,
                "cnf":{"jkt":"abc"},"tenant":"t1"}"#,
        )
        .unwrap();
        let claims = AccessTokenClaims::<Map<String, Value>>::from_introspection(&response).unwrap();
        assert_eq!((claims.iss.as_str(), claims.sub.as_deref()), ("https://as.example", Some("u1")));
        assert_eq!(claims.aud, ["https://api.example"]);
        assert!(claims.has_scope("write"));
        assert_eq!(claims.cnf.unwrap().jkt.as_deref(), Some("abc"));
        assert_eq!(
            (claims.extra["tenant"].as_str(), claims.extra["username"].as_str()),
            (Some("t1"), Some("jdoe"))
        );
        let unknown =
            IntrospectionResponse::from_json(br#"{"active":true,"cnf":{"jwk":{"kty":"EC"}}}"#).unwrap();
        let refused = AccessTokenClaims::<Map<String, Value>>::from_introspection(&unknown);
        assert!(
            matches!(refused, Err(JwtError::InvalidClaim("cnf"))),
            "a binding it cannot check: {refused:?}"
        );
        let bare = IntrospectionResponse::from_json(br#"{"active":true}"#).unwrap();
        let claims = AccessTokenClaims::<Map<String, Value>>::from_introspection(&bare).unwrap();
        assert_eq!((claims.iss.as_str(), claims.sub), ("", None));
    }
}
