//! Claims as JWTs carry them (RFC 7519 §4.1): NumericDates, `aud` as a string or an array;
//! and the claims of an ID token, which a token response carries once validated.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// A NumericDate (seconds since the Unix epoch; fractions dropped), if present.
pub(crate) fn numeric_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    match Option::<f64>::deserialize(deserializer)? {
        None => Ok(None),
        // `as` saturates for values out of range.
        Some(seconds) if seconds.is_finite() => Ok(Some(seconds as i64)),
        Some(_) => Err(serde::de::Error::custom("not a NumericDate")),
    }
}

/// `aud`: one string or an array of strings.
pub(crate) fn audiences<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(OneOrMany::One(one)) => vec![one],
        Some(OneOrMany::Many(many)) => many,
    })
}

/// The claims of a validated ID token: who logged in, when and how. The standard claims of
/// Core §2 are typed; the others (`name`, `email`, your server's own) are in
/// [`extra`](Self::extra), or decoded as a type of yours with [`extra_as`](Self::extra_as).
///
/// `Debug` shows `iss`, `sub`, `aud` and the names of the other claims, not their values
/// (personal data).
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct IdTokenClaims {
    /// The issuer (`iss`).
    pub iss: String,
    /// The user's identifier at the issuer (`sub`): with `iss`, the one stable key of a user.
    pub sub: String,
    /// The audiences (`aud`): this client, and maybe others.
    #[serde(default, deserialize_with = "audiences")]
    pub aud: Vec<String>,
    /// Expiry (`exp`), seconds since the Unix epoch.
    #[serde(default, deserialize_with = "numeric_date")]
    pub exp: Option<i64>,
    /// Issue time (`iat`), seconds since the Unix epoch.
    #[serde(default, deserialize_with = "numeric_date")]
    pub iat: Option<i64>,
    /// When the user authenticated (`auth_time`).
    #[serde(default, deserialize_with = "numeric_date")]
    pub auth_time: Option<i64>,
    /// The login's nonce (`nonce`), checked already.
    #[serde(default)]
    pub nonce: Option<String>,
    /// The authentication context class (`acr`).
    #[serde(default)]
    pub acr: Option<String>,
    /// The authentication methods (`amr`).
    #[serde(default)]
    pub amr: Option<Vec<String>>,
    /// The party the token was issued to (`azp`), checked already when present.
    #[serde(default)]
    pub azp: Option<String>,
    /// The access token's hash (`at_hash`), checked already when present.
    #[serde(default)]
    pub at_hash: Option<String>,
    /// The code's hash (`c_hash`), checked already when present.
    #[serde(default)]
    pub c_hash: Option<String>,
    /// The session's identifier (`sid`, OpenID Connect Front-Channel Logout).
    #[serde(default)]
    pub sid: Option<String>,
    /// Every other claim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl IdTokenClaims {
    /// The other claims as `C` (a type of yours naming the ones your server sends).
    ///
    /// ```
    /// # fn demo(claims: &oauth2_kit::jwt::IdTokenClaims) -> Result<(), serde_json::Error> {
    /// #[derive(serde::Deserialize)]
    /// struct Profile {
    ///     email: Option<String>,
    ///     name: Option<String>,
    /// }
    /// let profile: Profile = claims.extra_as()?;
    /// # drop(profile); Ok(()) }
    /// ```
    pub fn extra_as<C: DeserializeOwned>(&self) -> Result<C, serde_json::Error> {
        C::deserialize(Value::Object(self.extra.clone()))
    }
}

impl fmt::Debug for IdTokenClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenClaims")
            .field("iss", &self.iss)
            .field("sub", &self.sub)
            .field("aud", &self.aud)
            .field("exp", &self.exp)
            .field("other_claims", &self.extra.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_dates_and_audiences_read_as_jwts_write_them() {
        #[derive(Deserialize)]
        struct Claims {
            #[serde(default, deserialize_with = "numeric_date")]
            exp: Option<i64>,
            #[serde(default, deserialize_with = "audiences")]
            aud: Vec<String>,
        }
        let read = |json: &str| serde_json::from_str::<Claims>(json).map(|c| (c.exp, c.aud));
        assert_eq!(read(r#"{"exp":1.9e3,"aud":"a"}"#).unwrap(), (Some(1900), vec!["a".to_owned()]));
        assert_eq!(read(r#"{"aud":["a","b"]}"#).unwrap(), (None, vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(read(r#"{"exp":1e400}"#).ok(), None, "not finite");
        assert!(read(r#"{"exp":"1000"}"#).is_err());
        assert!(read(r#"{"aud":[1]}"#).is_err());
    }
}
