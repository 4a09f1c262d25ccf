//! What the examples share on the command line.

use std::sync::Arc;

use anyhow::bail;
use oauth2_kit::http::HttpClient;

/// The adapter named by `--http`: `reqwest` or `isahc`.
pub fn http_client(name: &str) -> anyhow::Result<Arc<dyn HttpClient>> {
    Ok(match name {
        "reqwest" => Arc::new(oauth2_kit_reqwest::ReqwestClient::new()?),
        "isahc" => Arc::new(oauth2_kit_isahc::IsahcClient::new()?),
        other => bail!("--http must be reqwest or isahc, not {other}"),
    })
}
