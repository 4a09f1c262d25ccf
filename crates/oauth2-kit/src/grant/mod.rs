//! Grant types: how a client obtains an access token.

pub mod authorization_code;
pub mod client_credentials;
pub mod device_code;
pub mod jwt_bearer;
pub mod password;
mod refresh_token;
pub mod token_exchange;

pub(crate) use crate::grant::refresh_token::RESERVED_PARAMS as REFRESH_RESERVED_PARAMS;
pub use crate::grant::refresh_token::RefreshClient;
pub(crate) mod token_endpoint;
