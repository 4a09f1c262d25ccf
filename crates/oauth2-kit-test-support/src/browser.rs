//! A scripted browser for oidc-provider's login, consent and device pages: plain HTTP requests
//! through an adapter (which follows no redirect) and a cookie jar.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use oauth2_kit::http::{HttpClient, HttpResponse};
use oauth2_kit::reexports::url::{Url, form_urlencoded};

/// A user at oidc-provider's pages: follows its forms, keeps its cookies.
pub struct Browser {
    http: Arc<dyn HttpClient>,
    cookies: BTreeMap<String, String>,
    /// The login name typed in the login form.
    pub login: String,
}

/// Where a walk through the pages ended.
pub enum Landing {
    /// A redirect to a URL outside the server (the client's redirect URI).
    Redirect(Url),
    /// A page of the server, with its body.
    Page(Url, StatusCode, String),
}

impl Browser {
    /// A browser over `http` that logs in as `login`.
    pub fn new(http: Arc<dyn HttpClient>, login: &str) -> Self {
        Self { http, cookies: BTreeMap::new(), login: login.to_owned() }
    }

    async fn send(&mut self, request: http::request::Builder, body: Bytes) -> HttpResponse {
        let cookie = self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
        let request = if cookie.is_empty() { request } else { request.header("cookie", cookie) };
        let response =
            self.http.send(request.body(body).expect("a request")).await.expect("the server answers");
        for set in response.headers().get_all("set-cookie") {
            let text = set.to_str().expect("an ASCII cookie");
            let pair = text.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let expired = value.is_empty() || text.to_ascii_lowercase().contains("expires=thu, 01 jan 1970");
            if expired {
                self.cookies.remove(name.trim());
            } else {
                self.cookies.insert(name.trim().to_owned(), value.to_owned());
            }
        }
        response
    }

    /// `GET url` with the cookies kept so far.
    pub async fn get(&mut self, url: &Url) -> HttpResponse {
        self.send(http::Request::get(url.as_str()), Bytes::new()).await
    }

    /// `POST url` with `form`, form-encoded, and the cookies kept so far.
    pub async fn post(&mut self, url: &Url, form: &[(&str, &str)]) -> HttpResponse {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let request =
            http::Request::post(url.as_str()).header("content-type", "application/x-www-form-urlencoded");
        self.send(request, Bytes::from(body)).await
    }

    /// Follows redirects from `response` (the answer to `url`) and answers the login and consent
    /// prompts, until a redirect leaves the server or a page that is no prompt is shown.
    pub async fn walk(&mut self, mut url: Url, mut response: HttpResponse) -> Landing {
        for _ in 0..20 {
            if response.status().is_redirection() {
                let location = response.headers()["location"].to_str().expect("a location");
                let next = url.join(location).expect("a location URL");
                if next.origin() != url.origin() {
                    return Landing::Redirect(next);
                }
                url = next;
                response = self.get(&url).await;
                continue;
            }
            let body = String::from_utf8_lossy(response.body()).into_owned();
            if url.path().starts_with("/interaction/") {
                let login = self.login.clone();
                response = if body.contains(r#"name="prompt" value="login""#) {
                    self.post(&url, &[("prompt", "login"), ("login", &login), ("password", "any")]).await
                } else if body.contains(r#"name="prompt" value="consent""#) {
                    self.post(&url, &[("prompt", "consent")]).await
                } else {
                    panic!("an interaction page with no known prompt: {body}");
                };
                continue;
            }
            return Landing::Page(url, response.status(), body);
        }
        panic!("more than 20 steps");
    }

    /// Opens a login link and logs in: the redirect back to the client.
    pub async fn log_in(&mut self, link: &Url) -> Url {
        let response = self.get(link).await;
        match self.walk(link.clone(), response).await {
            Landing::Redirect(url) => url,
            Landing::Page(url, status, body) => panic!("stuck at {url} ({status}): {body}"),
        }
    }

    /// Enters `user_code` at the device verification page and approves (logging in and
    /// consenting) or denies. Returns the last page's body.
    pub async fn answer_device(&mut self, verification_uri: &Url, user_code: &str, approve: bool) -> String {
        let page = self.get(verification_uri).await;
        let xsrf = hidden(&String::from_utf8_lossy(page.body()), "xsrf");
        let mut form = vec![("xsrf", xsrf.as_str()), ("user_code", user_code)];
        form.push(if approve { ("confirm", "yes") } else { ("abort", "yes") });
        let response = self.post(verification_uri, &form).await;
        match self.walk(verification_uri.clone(), response).await {
            Landing::Page(_, _, body) => body,
            Landing::Redirect(url) => panic!("the device flow redirected away to {url}"),
        }
    }
}

/// The value of a hidden form input.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker).map(|i| i + marker.len()).unwrap_or_else(|| panic!("no {name} in {html}"));
    html[start..].split('"').next().unwrap_or_default().to_owned()
}
