//! The checks every validator makes: times within a bounded leeway; `cnf` read.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize as _, Deserializer};
use serde_json::Value;

use super::JwtError;
use crate::confirmation::Confirmation;

/// The largest leeway a validator accepts for clock differences.
pub(crate) const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// `cnf` (RFC 7800): `jkt` or `x5t#S256`, strings. A `cnf` that binds the token to something
/// else (`jwk`, `kid`, ...) or is not of that shape is refused, never read as no binding: a
/// binding this library cannot check must not turn a token into a bearer token.
pub(crate) fn confirmation<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Confirmation>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(cnf) => strict_confirmation(&cnf)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("a cnf binding this library cannot check")),
    }
}

/// `cnf` read strictly: an object of `jkt` and `x5t#S256` strings only, at least one.
pub(crate) fn strict_confirmation(cnf: &Value) -> Option<Confirmation> {
    let object = cnf.as_object()?;
    let known =
        object.iter().all(|(name, value)| matches!(name.as_str(), "jkt" | "x5t#S256") && value.is_string());
    if known { Confirmation::from_value(cnf) } else { None }
}

/// The times a token carries, checked against `now` with `leeway` either way: `exp` required
/// and not passed, `nbf` (if present) reached, `iat` (if present) not ahead.
pub(crate) fn check_times(
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
    now: SystemTime,
    leeway: Duration,
) -> Result<(), JwtError> {
    let now = match now.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    };
    let leeway = i64::try_from(leeway.as_secs()).unwrap_or(0);
    let exp = exp.ok_or(JwtError::MissingClaim("exp"))?;
    if exp.saturating_add(leeway) <= now {
        return Err(JwtError::Expired);
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
        return Err(JwtError::NotYetValid);
    }
    if iat.is_some_and(|iat| iat > now.saturating_add(leeway)) {
        return Err(JwtError::IssuedInFuture);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_within_the_leeway() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let leeway = Duration::from_secs(30);
        assert!(check_times(Some(1_001), None, Some(1_000), now, Duration::ZERO).is_ok());
        assert!(matches!(check_times(Some(1_000), None, None, now, Duration::ZERO), Err(JwtError::Expired)));
        assert!(check_times(Some(980), None, None, now, leeway).is_ok(), "expired 20 s ago, within 30 s");
        assert!(matches!(check_times(Some(970), None, None, now, leeway), Err(JwtError::Expired)));
        assert!(matches!(check_times(None, None, None, now, leeway), Err(JwtError::MissingClaim("exp"))));
        assert!(check_times(Some(2_000), Some(1_030), None, now, leeway).is_ok());
        assert!(matches!(
            check_times(Some(2_000), Some(1_031), None, now, leeway),
            Err(JwtError::NotYetValid)
        ));
        assert!(matches!(
            check_times(Some(2_000), None, Some(1_031), now, leeway),
            Err(JwtError::IssuedInFuture)
        ));
        assert!(check_times(Some(i64::MAX), Some(i64::MIN), Some(i64::MIN), now, leeway).is_ok());
    }
}
