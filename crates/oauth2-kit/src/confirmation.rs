//! What a sender-constrained token is bound to (`cnf`, RFC 7800): a DPoP key's thumbprint
//! (RFC 9449 §6) or a TLS client certificate's (RFC 8705 §3.1).

use serde_json::Value;

use crate::dpop::DpopKey;
use crate::http::ClientCertificate;

/// The confirmation claim (`cnf`) of a token: the key or certificate it is bound to, as an
/// introspection response ([`IntrospectionResponse::confirmation`](crate::IntrospectionResponse::confirmation))
/// says. A token bound to neither is a bearer token.
///
/// ```
/// use oauth2_kit::IntrospectionResponse;
///
/// let info = IntrospectionResponse::from_json(br#"{"active": true,
///     "cnf": {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}}"#)?;
/// let cnf = info.confirmation().unwrap();
/// assert_eq!(cnf.x5t_s256.as_deref(), Some("bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"));
/// assert_eq!(cnf.jkt, None);
/// # Ok::<(), oauth2_kit::DecodeError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Confirmation {
    /// The JWK thumbprint of the DPoP key the token is bound to (`jkt`).
    pub jkt: Option<String>,
    /// The SHA-256 thumbprint of the client certificate the token is bound to (`x5t#S256`).
    pub x5t_s256: Option<String>,
}

impl Confirmation {
    /// The confirmation of a `cnf` claim's value (a JSON object; members other than `jkt` and
    /// `x5t#S256`, and members that are not strings, are ignored). `None` when it binds nothing
    /// this type names.
    pub fn from_value(cnf: &Value) -> Option<Self> {
        let text = |name: &str| cnf.get(name).and_then(Value::as_str).map(str::to_owned);
        let confirmation = Self { jkt: text("jkt"), x5t_s256: text("x5t#S256") };
        (confirmation != Self::default()).then_some(confirmation)
    }

    /// Whether the token is bound to `key`.
    pub fn is_bound_to_key(&self, key: &DpopKey) -> bool {
        self.jkt.as_deref() == Some(key.thumbprint())
    }

    /// Whether the token is bound to `certificate`.
    pub fn is_bound_to_certificate(&self, certificate: &ClientCertificate) -> bool {
        self.x5t_s256.is_some() && self.x5t_s256 == certificate.thumbprint()
    }
}
