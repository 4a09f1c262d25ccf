//! Grant types: how a client obtains an access token.

pub mod client_credentials;
