//! Identifiers and secrets.
//!
//! Every credential the protocol moves around has its own type, so a secret cannot be passed
//! where an identifier is expected and so that redaction is a property of the type rather than of
//! the care taken at each call site. Secret types:
//!
//! - print as `ClientSecret([redacted])` with `Debug` and `[redacted]` with `Display`;
//! - are zeroized when dropped (they hold a [`secrecy::SecretString`]);
//! - give their value only through an explicit [`expose_secret`](ClientSecret::expose_secret).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::from(value.into()))
            }

            /// The secret value. Every read of a secret goes through this call, so a reviewer
            /// can find them all with one search.
            pub fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[redacted]")
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl PartialEq for $name {
            /// Compares in time that depends only on the lengths, not on where the values differ.
            fn eq(&self, other: &Self) -> bool {
                constant_time_eq(self.expose_secret().as_bytes(), other.expose_secret().as_bytes())
            }
        }

        impl Eq for $name {}
    };
}

secret_type!(
    /// A client secret (RFC 6749 §2.3.1), used to authenticate the client at the token,
    /// introspection and revocation endpoints.
    ///
    /// ```
    /// use oauth2_kit::ClientSecret;
    ///
    /// let secret = ClientSecret::new("hunter2");
    /// assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
    /// assert_eq!(secret.to_string(), "[redacted]");
    /// assert_eq!(secret.expose_secret(), "hunter2");
    /// ```
    ClientSecret
);
secret_type!(
    /// An access token (RFC 6749 §1.4): the credential sent to resource servers.
    AccessToken
);
secret_type!(
    /// A refresh token (RFC 6749 §1.5).
    RefreshToken
);
secret_type!(
    /// A resource owner's password (RFC 6749 §4.3).
    Password
);
secret_type!(
    /// An authorization code (RFC 6749 §4.1.2).
    AuthorizationCode
);
secret_type!(
    /// A PKCE code verifier (RFC 7636 §4.1).
    PkceVerifier
);
secret_type!(
    /// The `state` of a login (RFC 6749 §4.1.1): an unguessable value the client keeps and
    /// checks when the user comes back, so that a forged callback is refused (CSRF). Compared in
    /// constant time.
    LoginState
);
secret_type!(
    /// An OpenID Connect `nonce` (Core §3.1.2.1): binds an ID token to the login that asked for
    /// it.
    Nonce
);
secret_type!(
    /// A signed JWT presented as a credential (RFC 7523): the assertion of the JWT bearer grant.
    /// Whoever holds it gets tokens until it expires.
    Assertion
);
secret_type!(
    /// A device code (RFC 8628 §3.2): what a device polls with; whoever holds it gets the tokens.
    DeviceCode
);
secret_type!(
    /// An OpenID Connect ID token. It carries personal data, so it is treated as a secret.
    IdToken
);

/// Compares two byte strings without an early exit on the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // Constant time in the contents; a length difference is answered at once (lengths are not
    // secret: a state or a token has a fixed, public length).
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

/// A client identifier (RFC 6749 §2.2). Not a secret: it is printed as is.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(String);

impl ClientId {
    /// Wraps a client identifier.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The identifier as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClientId").field(&self.0).finish()
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for ClientId {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for ClientId {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug_and_display() {
        let values = [
            format!("{:?}", ClientSecret::new("s-1")),
            format!("{}", ClientSecret::new("s-1")),
            format!("{:?}", AccessToken::new("s-1")),
            format!("{}", AccessToken::new("s-1")),
            format!("{:?}", RefreshToken::new("s-1")),
            format!("{:?}", Password::new("s-1")),
            format!("{:?}", AuthorizationCode::new("s-1")),
            format!("{:?}", PkceVerifier::new("s-1")),
            format!("{:?}", IdToken::new("s-1")),
            format!("{:#?}", Some(AccessToken::new("s-1"))),
        ];
        for shown in values {
            assert!(!shown.contains("s-1"), "secret leaked: {shown}");
            assert!(shown.contains("[redacted]"), "{shown}");
        }
    }

    #[test]
    fn secrets_compare_by_value() {
        assert_eq!(AccessToken::new("abc"), AccessToken::new("abc"));
        assert_ne!(AccessToken::new("abc"), AccessToken::new("abd"));
        assert_ne!(AccessToken::new("abc"), AccessToken::new("abcd"));
    }

    #[test]
    fn client_id_is_printed() {
        let id = ClientId::new("my-app");
        assert_eq!(id.to_string(), "my-app");
        assert_eq!(format!("{id:?}"), "ClientId(\"my-app\")");
    }
}
