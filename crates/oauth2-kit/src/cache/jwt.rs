//! The `exp` claim of a JWT access token, read without verification, for scheduling only.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How long until the JWT's `exp`, if `token` is a JWT (three dot-separated base64url parts
/// whose middle is a JSON object with a numeric `exp`) and `exp` is in the future.
///
/// The signature is **not** checked: a cache only uses this to decide when to refresh a token it
/// got from the token endpoint itself, never to trust a token.
pub(crate) fn lifetime_from_exp(token: &str, now: SystemTime) -> Option<Duration> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.len() > 16 * 1024 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    if !exp.is_finite() || exp <= 0.0 {
        return None;
    }
    let exp = UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(exp).ok()?)?;
    exp.duration_since(now).ok().filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!("eyJhbGciOiJub25lIn0.{}.sig", URL_SAFE_NO_PAD.encode(claims))
    }

    #[test]
    fn reads_exp() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(lifetime_from_exp(&jwt(r#"{"exp":1600}"#), now), Some(Duration::from_secs(600)));
        assert_eq!(lifetime_from_exp(&jwt(r#"{"exp":900}"#), now), None, "already expired");
        assert_eq!(lifetime_from_exp(&jwt(r#"{"sub":"x"}"#), now), None);
        assert_eq!(lifetime_from_exp(&jwt(r#"{"exp":"soon"}"#), now), None);
        assert_eq!(lifetime_from_exp("opaque-token", now), None);
        assert_eq!(lifetime_from_exp("a.b.c.d", now), None);
        assert_eq!(lifetime_from_exp("a.!!!.c", now), None);
        assert_eq!(lifetime_from_exp(&jwt(r#"{"exp":1e400}"#), now), None);
    }
}
