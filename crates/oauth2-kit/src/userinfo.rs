//! The OpenID Connect UserInfo endpoint (Core §5.3): who the user behind an access token is.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method};
use serde_json::{Map, Value};

use crate::decode::{DecodeError, JsonObject};
use crate::dpop::DpopKey;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::exchange::{Answer, Operation, Transport};
use crate::http::HttpClient;
use crate::secret::AccessToken;

/// How the access token is presented to the UserInfo endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserInfoMethod {
    /// `GET` with `Authorization: Bearer` (Core §5.3.1 recommends it). The default.
    #[default]
    Get,
    /// `POST` (an empty form) with `Authorization: Bearer`, for servers that want it.
    Post,
}

/// A postal address claim (Core §5.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Address {
    /// The full address, formatted for display.
    pub formatted: Option<String>,
    /// Street, house number, ...
    pub street_address: Option<String>,
    /// City or locality.
    pub locality: Option<String>,
    /// State, province, region.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Country.
    pub country: Option<String>,
}

/// The claims a UserInfo endpoint returned: the standard ones of Core §5.1 typed, the others in
/// [`extra`](Self::extra).
///
/// `Debug` shows `sub` and which claims are present, not their values (personal data).
///
/// ```
/// use oauth2_kit::userinfo::UserInfo;
///
/// let info = UserInfo::from_json(br#"{
///     "sub": "248289761001", "name": "Jane Doe", "email": "janedoe@example.com",
///     "email_verified": true, "updated_at": 1311280970, "https://example.com/roles": ["admin"]
/// }"#)?;
/// assert_eq!(info.sub, "248289761001");
/// assert_eq!(info.email_verified, Some(true));
/// assert_eq!(info.extra["https://example.com/roles"][0], "admin");
/// # Ok::<(), oauth2_kit::DecodeError>(())
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct UserInfo {
    /// Subject: the user's identifier at the issuer. Always present.
    pub sub: String,
    /// Full name.
    pub name: Option<String>,
    /// Given name(s).
    pub given_name: Option<String>,
    /// Surname(s).
    pub family_name: Option<String>,
    /// Middle name(s).
    pub middle_name: Option<String>,
    /// Casual name.
    pub nickname: Option<String>,
    /// The name the user wants to be called by (not unique, not stable).
    pub preferred_username: Option<String>,
    /// Profile page URL.
    pub profile: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// Web page or blog URL.
    pub website: Option<String>,
    /// Preferred e-mail address.
    pub email: Option<String>,
    /// Whether the issuer verified the e-mail address.
    pub email_verified: Option<bool>,
    /// Gender.
    pub gender: Option<String>,
    /// Birthday (`YYYY-MM-DD`, `YYYY` or `0000-MM-DD`).
    pub birthdate: Option<String>,
    /// Time zone (`Europe/Paris`).
    pub zoneinfo: Option<String>,
    /// Locale (BCP 47, `fr-CA`).
    pub locale: Option<String>,
    /// Preferred telephone number.
    pub phone_number: Option<String>,
    /// Whether the issuer verified the phone number.
    pub phone_number_verified: Option<bool>,
    /// Postal address.
    pub address: Option<Address>,
    /// When the information was last updated (seconds since the Unix epoch).
    pub updated_at: Option<i64>,
    /// Every other claim, as sent.
    pub extra: Map<String, Value>,
}

impl UserInfo {
    /// Decodes a UserInfo response (a JSON object with at least `sub`). Lenient where servers
    /// differ: the `*_verified` flags may be `"true"`/`"false"` strings, `updated_at` a numeric
    /// string, and a malformed `address` is kept in `extra` rather than failing the response.
    pub fn from_json(body: &[u8]) -> Result<Self, DecodeError> {
        Self::from_object(JsonObject::parse(body)?)
    }

    fn from_object(mut object: JsonObject<'_>) -> Result<Self, DecodeError> {
        let sub = object.required_string("sub")?;
        if sub.is_empty() {
            return Err(DecodeError::new(Some("sub"), "`sub` is empty"));
        }
        let mut text = |key: &'static str| object.optional_string(key);
        let name = text("name")?;
        let given_name = text("given_name")?;
        let family_name = text("family_name")?;
        let middle_name = text("middle_name")?;
        let nickname = text("nickname")?;
        let preferred_username = text("preferred_username")?;
        let profile = text("profile")?;
        let picture = text("picture")?;
        let website = text("website")?;
        let email = text("email")?;
        let gender = text("gender")?;
        let birthdate = text("birthdate")?;
        let zoneinfo = text("zoneinfo")?;
        let locale = text("locale")?;
        let phone_number = text("phone_number")?;
        let email_verified = object.lenient_bool("email_verified")?;
        let phone_number_verified = object.lenient_bool("phone_number_verified")?;
        let updated_at = object.timestamp("updated_at")?;
        let address = object.take_if(|value| matches!(value, Value::Object(_)), "address").and_then(address);
        Ok(Self {
            sub,
            name,
            given_name,
            family_name,
            middle_name,
            nickname,
            preferred_username,
            profile,
            picture,
            website,
            email,
            email_verified,
            gender,
            birthdate,
            zoneinfo,
            locale,
            phone_number,
            phone_number_verified,
            address,
            updated_at,
            extra: object.into_rest(),
        })
    }
}

fn address(value: Value) -> Option<Address> {
    let Value::Object(map) = value else { return None };
    let text = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_owned);
    Some(Address {
        formatted: text("formatted"),
        street_address: text("street_address"),
        locality: text("locality"),
        region: text("region"),
        postal_code: text("postal_code"),
        country: text("country"),
    })
}

impl fmt::Debug for UserInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present: Vec<&str> = [
            ("name", self.name.is_some()),
            ("email", self.email.is_some()),
            ("phone_number", self.phone_number.is_some()),
            ("address", self.address.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        f.debug_struct("UserInfo")
            .field("sub", &self.sub)
            .field("claims", &present)
            .field("extra", &crate::decode::KeysOnly(&self.extra))
            .finish_non_exhaustive()
    }
}

/// A client of a UserInfo endpoint, obtained from
/// [`OAuth2Client::userinfo`](crate::OAuth2Client::userinfo) (or built on its own with
/// [`new`](Self::new)).
///
/// ```no_run
/// use oauth2_kit::{ClientAuth, OAuth2Client};
/// # async fn demo(http: impl oauth2_kit::http::HttpClient + Clone + 'static, token: oauth2_kit::AccessToken) -> Result<(), Box<dyn std::error::Error>> {
/// let client = OAuth2Client::discover(&"https://accounts.example.com".parse()?, ClientAuth::public("my-app"), http).await?;
/// let me = client.userinfo()?.fetch(&token).await?;
/// println!("hello {}", me.name.as_deref().unwrap_or(&me.sub));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct UserInfoClient {
    endpoint: Endpoint,
    method: UserInfoMethod,
    transport: Transport,
    /// The key DPoP tokens are proven with.
    dpop: Option<DpopKey>,
}

impl UserInfoClient {
    /// A client of the UserInfo endpoint at `endpoint` (the full URL: nothing is appended to
    /// or replaced in its path), with the default settings (a 1 MiB limit on the answer).
    pub fn new(endpoint: Endpoint, http: impl HttpClient + 'static) -> Self {
        Self { endpoint, method: UserInfoMethod::Get, transport: Transport::new(Arc::new(http)), dpop: None }
    }

    /// A client over a transport already set up (shared settings).
    pub(crate) fn with_transport(endpoint: Endpoint, transport: Transport, dpop: Option<DpopKey>) -> Self {
        Self { endpoint, method: UserInfoMethod::Get, transport, dpop }
    }

    /// How the token is presented. Default: [`UserInfoMethod::Get`].
    #[must_use]
    pub fn method(mut self, method: UserInfoMethod) -> Self {
        self.method = method;
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The claims about the user `token` was issued for. A rejected token is an
    /// [`Error::OAuth2`] (`invalid_token`, read from the `WWW-Authenticate` challenge); a signed
    /// or encrypted response (`application/jwt`) is an [`Error::Decode`]: this crate does not
    /// verify JWTs.
    ///
    /// From an [`OAuth2Client`](crate::OAuth2Client) with a DPoP key, the token is sent as a
    /// DPoP token (`Authorization: DPoP`) with a proof of the key, and a `use_dpop_nonce`
    /// challenge is answered once with the server's nonce.
    pub async fn fetch(&self, token: &AccessToken) -> Result<UserInfo> {
        let method = match self.method {
            UserInfoMethod::Get => Method::GET,
            UserInfoMethod::Post => Method::POST,
        };
        let answer = match &self.dpop {
            None => self.send(&method, token, None).await?,
            Some(key) => {
                let uri = self.endpoint.uri();
                self.transport
                    .send_proved(key, &method, uri, Some(token), |proof| {
                        self.send(&method, token, Some(proof))
                    })
                    .await?
            }
        };
        read(answer)
    }

    /// Sends `token` to the endpoint: as a bearer token, or with its DPoP `proof`.
    async fn send(&self, method: &Method, token: &AccessToken, proof: Option<HeaderValue>) -> Result<Answer> {
        let mut request = http::Request::new(Bytes::new());
        *request.method_mut() = method.clone();
        *request.uri_mut() = self.endpoint.uri().clone();
        let headers = request.headers_mut();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if method == Method::POST {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        }
        let scheme = if proof.is_some() { "DPoP" } else { "Bearer" };
        let value = zeroize::Zeroizing::new(format!("{scheme} {}", token.expose_secret()));
        let mut authorization =
            HeaderValue::from_str(&value).map_err(|_| crate::error::BearerError::MalformedToken)?;
        authorization.set_sensitive(true);
        headers.insert(AUTHORIZATION, authorization);
        if let Some(proof) = proof {
            headers.insert(crate::dpop::DPOP, proof);
        }
        let mut answer = self.transport.send(Operation::UserInfo, &self.endpoint, request).await?;
        answer.sent.push(token.expose_secret());
        Ok(answer)
    }
}

/// Classifies a UserInfo answer: a signed or encrypted one is refused, a JSON one decoded.
pub(crate) fn read(answer: Answer) -> Result<UserInfo> {
    let is_jwt = answer
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/jwt"));
    if is_jwt && answer.status.is_success() {
        return Err(Error::Decode {
            status: answer.status,
            field: None,
            reason: "the UserInfo response is a signed or encrypted JWT (application/jwt), which this \
                     crate does not verify"
                .to_owned(),
            body_excerpt: String::new(),
        });
    }
    answer.json(|object, _| UserInfo::from_object(object))
}

impl UserInfoClient {
    /// [`fetch`](Self::fetch), then the check OpenID Connect Core §5.3.2 requires: the
    /// response's `sub` must be `expected_sub`, the ID token's `sub` (from an ID token you have
    /// verified). Another `sub` is an [`Error::Decode`] on the field `sub`: the response must
    /// not be used (it may be for another user, substituted by an attacker).
    pub async fn fetch_for(&self, token: &AccessToken, expected_sub: &str) -> Result<UserInfo> {
        let info = self.fetch(token).await?;
        if info.sub != expected_sub {
            return Err(Error::Decode {
                status: http::StatusCode::OK,
                field: Some("sub"),
                reason: "the UserInfo `sub` is not the ID token's: the response is for another user"
                    .to_owned(),
                body_excerpt: String::new(),
            });
        }
        Ok(info)
    }
}

impl fmt::Debug for UserInfoClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserInfoClient")
            .field("endpoint", &self.endpoint)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openid_core_5_3_2_example() {
        let info = UserInfo::from_json(
            br#"{"sub":"248289761001","name":"Jane Doe","given_name":"Jane","family_name":"Doe",
                "preferred_username":"j.doe","email":"janedoe@example.com",
                "picture":"http://example.com/janedoe/me.jpg"}"#,
        )
        .unwrap();
        assert_eq!(info.given_name.as_deref(), Some("Jane"));
        assert_eq!(info.preferred_username.as_deref(), Some("j.doe"));
        assert!(info.extra.is_empty());
    }

    #[test]
    fn lenient_and_strict_members() {
        let info = UserInfo::from_json(
            br#"{"sub":"1","email_verified":"true","phone_number_verified":false,"updated_at":"1311280970",
                "address":{"locality":"Anytown","country":"US","extra":1}}"#,
        )
        .unwrap();
        assert_eq!(info.email_verified, Some(true));
        assert_eq!(info.phone_number_verified, Some(false));
        assert_eq!(info.updated_at, Some(1_311_280_970));
        assert_eq!(info.address.unwrap().locality.as_deref(), Some("Anytown"));

        let odd = UserInfo::from_json(br#"{"sub":"1","address":"1 Main St"}"#).unwrap();
        assert!(odd.address.is_none());
        assert_eq!(odd.extra["address"], "1 Main St");

        for (body, field) in [
            (&br#"{"name":"x"}"#[..], "sub"),
            (br#"{"sub":""}"#, "sub"),
            (br#"{"sub":7}"#, "sub"),
            (br#"{"sub":"1","email":["a"]}"#, "email"),
            (br#"{"sub":"1","email_verified":"yes"}"#, "email_verified"),
        ] {
            assert_eq!(UserInfo::from_json(body).unwrap_err().field(), Some(field));
        }
    }

    #[test]
    fn debug_shows_no_personal_data() {
        let info =
            UserInfo::from_json(br#"{"sub":"1","name":"Jane Doe","email":"jane@example.com","x":"X-1"}"#)
                .unwrap();
        let shown = format!("{info:?}");
        for value in ["Jane", "jane@", "X-1"] {
            assert!(!shown.contains(value), "{shown}");
        }
    }
}
