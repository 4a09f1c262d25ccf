//! The leak test: every flow runs under a `tracing` subscriber that records every level, span
//! and field; every public value and error met on the way is formatted with `Debug` (plain and
//! `{:#?}`) and `Display`. No client secret, access token, refresh token, password,
//! authorization code, PKCE verifier, login state, signed assertion (a client's, or the JWT
//! bearer grant's), token exchange's subject token or private key may
//! appear anywhere in what was recorded.
//! (One test in its own binary: the subscriber is the process-wide default.)

// Test code: a failed unwrap is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use oauth2_kit::AssertionAudience;
use oauth2_kit::bearer::{BearerAuth, BearerClient};
use oauth2_kit::discovery::ServerMetadata;
use oauth2_kit::dpop::DpopKey;
use oauth2_kit::grant::authorization_code::Callback;
use oauth2_kit::grant::jwt_bearer::SignedAssertion;
use oauth2_kit::grant::token_exchange::TokenExchangeRequest;
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use oauth2_kit::reexports::url;
use oauth2_kit::reexports::url::Url;
use oauth2_kit::signing::{JwsAlgorithm, PrivateKey};
use oauth2_kit::{AccessTokenProvider, ClientAuth, Password, TokenResponse};
use oauth2_kit::{AuthorizationServer, OAuth2Client};
use oauth2_kit_test_support::leak::{basic_credential, basic_echoes, echoes, leak, spellings};
use oauth2_kit_testkit::{Fault, Route, TestClient, TestServer, TestUser};
use tracing_subscriber::fmt::format::FmtSpan;

/// A marker in a fault's body or headers that [`EchoAssertion`] replaces, in each spelling
/// [`echoes`] writes it, by the client assertion the request carried.
const MARKER: &str = "echomarker";

/// A marker [`EchoAssertion`] replaces by the signature of the request's client assertion.
const SIGNATURE_MARKER: &str = "signaturemarker";

fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest.windows(from.len()).position(|w| w == from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// A server that echoes the signed client assertion it was sent, in every spelling: the
/// answers' [`MARKER`]s become the request's `client_assertion`. Keeps every assertion sent.
#[derive(Clone)]
struct EchoAssertion {
    inner: Arc<dyn HttpClient>,
    sent: Arc<Mutex<Vec<String>>>,
}

#[oauth2_kit::async_trait]
impl HttpClient for EchoAssertion {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        // The credential a server could quote back: an assertion, else a pushed login's state.
        let form: Vec<(String, String)> = url::form_urlencoded::parse(request.body()).into_owned().collect();
        let assertion = ["client_assertion", "assertion", "state"]
            .iter()
            .find_map(|wanted| form.iter().find(|(name, _)| name == wanted).map(|(_, value)| value.clone()));
        let mut response = self.inner.send(request).await?;
        let Some(assertion) = assertion else { return Ok(response) };
        self.sent.lock().unwrap().push(assertion.clone());
        let signature = assertion.rsplit('.').next().unwrap_or_default().to_owned();
        let mut pairs: Vec<(String, String)> =
            spellings(MARKER).into_iter().zip(spellings(&assertion)).collect();
        pairs.push((SIGNATURE_MARKER.to_owned(), signature));
        let mut body = response.body().to_vec();
        for (marker, value) in &pairs {
            body = replace_bytes(&body, marker.as_bytes(), value.as_bytes());
        }
        for value in response.headers_mut().values_mut() {
            let mut bytes = value.as_bytes().to_vec();
            for (marker, echoed) in &pairs {
                bytes = replace_bytes(&bytes, marker.as_bytes(), echoed.as_bytes());
            }
            *value = http::HeaderValue::from_bytes(&bytes).unwrap();
        }
        *response.body_mut() = Bytes::from(body);
        Ok(response)
    }
}

/// A private key made for this run, and its private parts as they could be spelled in a leak:
/// the PEM's lines, a JWK's `d`.
fn keys(leaks: &mut Leaks) -> Vec<PrivateKey> {
    use rsa::pkcs8::{EncodePrivateKey as _, LineEnding};
    let mut rng = rsa::rand_core::OsRng;
    let rsa = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap().to_pkcs8_pem(LineEnding::LF).unwrap();
    let p256 = p256::SecretKey::random(&mut rng).to_pkcs8_pem(LineEnding::LF).unwrap();
    let mut keys = Vec::new();
    for (name, pem) in [("RSA", rsa.as_str()), ("P-256", p256.as_str())] {
        for line in pem.lines().filter(|line| !line.starts_with("-----")) {
            leaks.secret("private key (PEM line)", line);
        }
        keys.push(PrivateKey::from_pem(pem).unwrap().with_key_id(name));
    }
    let mut d = [0u8; 32];
    rsa::rand_core::RngCore::fill_bytes(&mut rng, &mut d);
    let d = URL_SAFE_NO_PAD.encode(d);
    leaks.secret("private key (JWK d)", &d);
    let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","kid":"Ed25519","d":"{d}"}}"#);
    leaks.show(&jwk.len());
    keys.push(PrivateKey::from_jwk(&jwk).unwrap());
    let rsa = keys[0].clone().with_algorithm(JwsAlgorithm::PS256).unwrap().with_key_id("RSA-PSS");
    keys.push(rsa);
    keys
}

/// Everything recorded: log lines and formatted values.
#[derive(Clone, Default)]
struct Record(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Record {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Secrets met, and values formatted.
struct Leaks {
    record: Record,
    secrets: Vec<(&'static str, String)>,
    formatted: usize,
}

impl Leaks {
    fn secret(&mut self, what: &'static str, value: impl Into<String>) {
        let value = value.into();
        assert!(value.len() >= 8, "{what} is too short to search for: {}", value.len());
        self.secrets.push((what, value));
    }

    fn token(&mut self, token: &TokenResponse) {
        self.show(token);
        self.secret("access token", token.access_token().expose_secret());
        if let Some(refresh) = token.refresh_token() {
            self.secret("refresh token", refresh.expose_secret());
        }
        if let Some(id_token) = token.id_token() {
            self.secret("ID token", id_token.expose_secret());
            // Its signature alone, as an error quoting part of it would show it.
            self.secret(
                "ID token signature",
                id_token.expose_secret().rsplit('.').next().unwrap_or_default(),
            );
            self.show(&token.id_token_claims());
        }
    }

    /// Formats `value` every way and records it.
    fn show(&mut self, value: &impl Debug) {
        let text = format!("{value:?}\n{value:#?}\n");
        self.record.0.lock().unwrap().extend_from_slice(text.as_bytes());
        self.formatted += 1;
    }

    fn error(&mut self, error: &oauth2_kit::Error) {
        let text = format!("{error}\n");
        self.record.0.lock().unwrap().extend_from_slice(text.as_bytes());
        self.show(error);
    }
}

const CLIENT_SECRET: &str = "leak-client-secret-1";
const WRONG_SECRET: &str = "leak-wrong-secret-22";
const PASSWORD: &str = "leak-user-password-3";
const WRONG_PASSWORD: &str = "leak-wrong-password-4";

async fn get(http: &Arc<dyn HttpClient>, url: &str) -> http::Response<Bytes> {
    http.send(http::Request::get(url).body(Bytes::new()).unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_trace_debug_or_display() {
    let record = Record::default();
    let writer = record.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let mut leaks = Leaks { record: record.clone(), secrets: Vec::new(), formatted: 0 };
    for (what, value) in [
        ("client secret", CLIENT_SECRET),
        ("wrong secret", WRONG_SECRET),
        ("password", PASSWORD),
        ("wrong password", WRONG_PASSWORD),
    ] {
        leaks.secret(what, value);
    }

    let keys = keys(&mut leaks);
    let mut signer = TestClient::new("leak-signer", CLIENT_SECRET);
    for key in &keys {
        leaks.show(key);
        leaks.show(&key.public_key());
        signer = signer.public_key(key.public_key());
    }
    let server = TestServer::builder()
        .trust_assertion_issuer("leak-issuer", keys[1].public_key())
        .client(signer)
        .client(TestClient::new("leak", CLIENT_SECRET).token_lifetime(Duration::from_secs(3600)))
        .client(TestClient::public("leak-tv"))
        .user(TestUser::new("leaker", PASSWORD))
        .device_interval(Some(Duration::from_secs(1)))
        .start()
        .unwrap();
    let assertions = Arc::new(Mutex::new(Vec::new()));
    for (adapter, http) in oauth2_kit_test_support::adapters() {
        leaks.show(&adapter);
        // Client credentials: token, introspection, revocation, and errors.
        let oauth2 = OAuth2Client::new(
            server.authorization_server(),
            ClientAuth::new("leak", CLIENT_SECRET),
            http.clone(),
        );
        leaks.show(&oauth2);
        let client = oauth2.client_credentials().unwrap();
        leaks.show(&client);
        let token = client.request_token(None).await.unwrap();
        leaks.token(&token);
        let introspection = oauth2.introspection().unwrap();
        leaks.show(&introspection);
        leaks.show(&introspection.introspect(token.access_token()).await.unwrap());
        let revocation = oauth2.revocation().unwrap();
        leaks.show(&revocation);
        let wrong_auth = ClientAuth::new("leak", WRONG_SECRET);
        let wrong = OAuth2Client::new(server.authorization_server(), wrong_auth, http.clone())
            .client_credentials()
            .unwrap();
        leaks.error(&wrong.request_token(None).await.unwrap_err());
        // A server that echoes a token in a bad answer: the excerpt must not repeat it.
        server.inject(
            Route::Token,
            Fault::status(500).with_body(format!(
                r#"{{"access_token":"{}","oops":1}}"#,
                token.access_token().expose_secret()
            )),
            1,
        );
        leaks.error(&client.request_token(None).await.unwrap_err());
        server.inject(
            Route::Token,
            Fault::body(format!(
                r#"{{"access_token":"{}","expires_in":"soon","token_type":"Bearer"}}"#,
                token.access_token().expose_secret()
            )),
            1,
        );
        leaks.error(&client.request_token(None).await.unwrap_err());

        // A server that echoes what it was sent ("invalid client secret: ..."), in an OAuth 2.0
        // error, a bare status with text, a problem+json body and a challenge header; then the
        // same behind a cache, whose failed fetch is logged at WARN.
        for fault in echoes(CLIENT_SECRET).into_iter().chain(basic_echoes("leak", CLIENT_SECRET)) {
            server.inject(Route::Token, fault, 1);
            leaks.error(&client.request_token(None).await.unwrap_err());
        }
        let echoing = oauth2_kit_cache_tokio::caching(oauth2.client_credentials().unwrap());
        server.inject(Route::Token, echoes(CLIENT_SECRET).swap_remove(0), 1);
        leaks.error(&echoing.get(None).await.unwrap_err());

        // Cached, behind a bearer client, through a revocation and 401 recovery.
        let cached = oauth2_kit_cache_tokio::caching(client.clone());
        leaks.show(&cached);
        let auth = BearerAuth::builder(cached.clone()).build();
        leaks.show(&auth);
        let api = BearerClient::new(http.clone(), auth);

        for _ in 0..3 {
            let response = api
                .execute(http::Request::get(server.resource_url().as_str()).body(Bytes::new()).unwrap())
                .await
                .unwrap();
            leaks.show(&response.status());
        }
        leaks.token(&cached.get(None).await.unwrap());
        server.revoke_all_tokens();
        let response = api
            .execute(http::Request::get(server.resource_url().as_str()).body(Bytes::new()).unwrap())
            .await
            .unwrap();
        leaks.show(&response.status());
        leaks.token(&cached.get(None).await.unwrap());
        leaks.show(&cached.metrics());
        revocation.revoke(token.access_token()).await.unwrap();

        // Caching introspection.
        let introspection = oauth2_kit_cache_tokio::caching_introspection(introspection);
        leaks.show(&introspection.introspect(token.access_token()).await.unwrap());
        leaks.show(&introspection);

        // Authorization code with PKCE, from discovery; UserInfo; refresh; revocation.
        let metadata = ServerMetadata::discover(&server.issuer(), http.clone()).await.unwrap();
        leaks.show(&metadata);
        let discovered = AuthorizationServer::from_metadata(&metadata);
        leaks.show(&discovered);
        let web = OAuth2Client::builder(discovered, ClientAuth::new("leak", CLIENT_SECRET), http.clone())
            .runtime(Arc::new(oauth2_kit_cache_tokio::TokioRuntime::new()))
            .build()
            .unwrap();
        let builder = web.authorization_code(Url::parse("http://127.0.0.1:9/cb").unwrap()).unwrap();
        leaks.show(&builder);
        let provider = builder.build().unwrap();
        let refresh = web.refresh().unwrap();
        leaks.show(&refresh);
        leaks.show(&provider);
        server.login_as("leaker");
        let link =
            provider.login_link().scope("openid read".parse().unwrap()).nonce().unwrap().build().unwrap();
        leaks.show(&link);
        let (url, pending) = link.into_parts();
        leaks.secret("PKCE verifier", pending.pkce_verifier().unwrap().expose_secret());
        leaks.secret("login state", pending.state().expose_secret());
        leaks.secret("nonce", pending.nonce().unwrap().expose_secret());
        leaks.show(&pending);
        let back = get(&http, url.as_str()).await;
        let callback =
            Callback::from_url(&back.headers()["location"].to_str().unwrap().parse().unwrap()).unwrap();
        leaks.secret("authorization code", callback.code().unwrap().expose_secret());
        leaks.show(&callback);
        for fault in echoes(callback.code().unwrap().expose_secret()) {
            server.inject(Route::Token, fault, 1);
            leaks.error(&provider.complete_login(&pending, &callback).await.unwrap_err());
        }
        let token = provider.complete_login(&pending, &callback).await.unwrap();
        leaks.token(&token);
        leaks.error(&provider.complete_login(&pending, &callback).await.unwrap_err()); // the code is spent
        let userinfo = web.userinfo().unwrap();
        leaks.show(&userinfo);
        leaks.show(&userinfo.fetch(token.access_token()).await.unwrap());
        for fault in echoes(token.refresh_token().unwrap().expose_secret()) {
            server.inject(Route::Token, fault, 1);
            leaks.error(&refresh.refresh(token.refresh_token().unwrap(), None).await.unwrap_err());
        }
        for fault in echoes(token.access_token().expose_secret()) {
            server.inject(Route::UserInfo, fault, 1);
            leaks.error(&userinfo.fetch(token.access_token()).await.unwrap_err());
        }
        let refreshed = refresh.refresh(token.refresh_token().unwrap(), None).await.unwrap();
        leaks.token(&refreshed);
        leaks.error(&refresh.refresh(token.refresh_token().unwrap(), None).await.unwrap_err()); // rotated away
        web.revocation().unwrap().revoke_refresh_token(refreshed.refresh_token().unwrap()).await.unwrap();
        leaks.error(&userinfo.fetch(refreshed.access_token()).await.unwrap_err());

        // Password grant, right and wrong.
        let password = web.password().unwrap();
        leaks.show(&password);
        let token = password.request_token("leaker", &Password::new(PASSWORD), None).await.unwrap();
        leaks.token(&token);
        leaks.error(
            &password.request_token("leaker", &Password::new(WRONG_PASSWORD), None).await.unwrap_err(),
        );
        for fault in echoes(PASSWORD) {
            server.inject(Route::Token, fault, 1);
            leaks.error(&password.request_token("leaker", &Password::new(PASSWORD), None).await.unwrap_err());
        }
        let for_user = password.provider("leaker", Password::new(PASSWORD));
        leaks.show(&for_user);
        leaks.token(&for_user.request_token(None).await.unwrap());

        // Device flow.
        let tv = OAuth2Client::builder(
            AuthorizationServer::from_metadata(&metadata),
            ClientAuth::public("leak-tv"),
            http.clone(),
        )
        .runtime(Arc::new(oauth2_kit_cache_tokio::TokioRuntime::new()))
        .build()
        .unwrap();
        let device = tv.device().unwrap();
        leaks.show(&device);
        let authorization = device.request_authorization(None).await.unwrap();
        leaks.show(&authorization);
        server.approve_device(authorization.user_code());
        leaks.token(&device.poll_token(&authorization).await.unwrap());
        leaks.error(&device.try_token(&authorization).await.unwrap_err()); // already used

        // Signed client assertions (private_key_jwt with every key type, client_secret_jwt):
        // token, introspection and revocation, wrong audiences refused, and servers that echo
        // the assertion they were sent.
        let echo = EchoAssertion { inner: http.clone(), sent: assertions.clone() };
        let mut auths: Vec<ClientAuth> =
            keys.iter().map(|key| ClientAuth::private_key_jwt("leak-signer", key.clone())).collect();
        auths.push(ClientAuth::client_secret_jwt("leak-signer", CLIENT_SECRET));
        for auth in auths {
            leaks.show(&auth);
            let signed = OAuth2Client::new(server.authorization_server(), auth.clone(), echo.clone());
            leaks.show(&signed);
            let grant = signed.client_credentials().unwrap();
            leaks.show(&grant);
            let token = grant.request_token(None).await.unwrap();
            leaks.token(&token);
            leaks.show(&signed.introspection().unwrap().introspect(token.access_token()).await.unwrap());
            signed.revocation().unwrap().revoke(token.access_token()).await.unwrap();
            for fault in echoes(MARKER) {
                server.inject(Route::Token, fault, 1);
                leaks.error(&grant.request_token(None).await.unwrap_err());
            }
            // Only the signature ("signature <...> does not verify").
            let signature_only =
                r#"{"error":"invalid_client","error_description":"bad signature signaturemarker"}"#;
            server.inject(Route::Token, Fault::status(401).with_body(signature_only), 1);
            leaks.error(&grant.request_token(None).await.unwrap_err());
            for fault in echoes(MARKER).into_iter().take(3) {
                server.inject(Route::Introspection, fault, 1);
                leaks.error(
                    &signed.introspection().unwrap().introspect(token.access_token()).await.unwrap_err(),
                );
            }
            // The JWT bearer grant, whose assertion a trusted issuer's key signs.
            let bearer =
                signed.jwt_bearer(SignedAssertion::new(keys[1].clone(), "leak-issuer", "leaker")).unwrap();
            leaks.show(&bearer);
            leaks.token(&bearer.request_token(None).await.unwrap());
            for fault in echoes(MARKER).into_iter().take(4) {
                server.inject(Route::Token, fault, 1);
                leaks.error(&bearer.request_token(None).await.unwrap_err());
            }
            // Token exchange: the subject token, the request, the answer, echoes, the cache.
            let subject = bearer.request_token(None).await.unwrap();
            leaks.token(&subject);
            let exchange = signed.token_exchange().unwrap();
            let request = TokenExchangeRequest::access_token(subject.access_token()).audience("leak-api");
            leaks.show(&request);
            let exchanged = exchange.exchange(&request).await.unwrap();
            leaks.show(&exchanged);
            leaks.token(exchanged.token());
            for fault in echoes(subject.access_token().expose_secret()).into_iter().take(4) {
                server.inject(Route::Token, fault, 1);
                leaks.error(&exchange.exchange(&request).await.unwrap_err());
            }
            let per_subject = oauth2_kit_cache_tokio::caching_exchange(exchange);
            leaks.token(&per_subject.get(&request).await.unwrap());
            leaks.show(&per_subject);
            // A pushed login link: the state, the nonce and the PKCE challenge go in a POST, to a
            // server that quotes the state back.
            let web = OAuth2Client::new(
                server.authorization_server(),
                ClientAuth::new("leak", CLIENT_SECRET),
                echo.clone(),
            )
            .authorization_code(Url::parse("http://127.0.0.1:9/cb").unwrap())
            .unwrap()
            .build()
            .unwrap();
            let link = web.login_link().nonce().unwrap().push().await.unwrap();
            leaks.show(&link);
            leaks.secret("login state", link.pending().state().expose_secret());
            leaks.secret("nonce", link.pending().nonce().unwrap().expose_secret());
            for fault in echoes(MARKER).into_iter().take(6) {
                server.inject(Route::PushedAuthorization, fault, 1);
                leaks.error(&web.login_link().nonce().unwrap().push().await.unwrap_err());
            }
            let elsewhere =
                auth.with_assertion_audience(AssertionAudience::Value("https://elsewhere.example".into()));
            let refused = OAuth2Client::new(server.authorization_server(), elsewhere, echo.clone());
            leaks.error(&refused.client_credentials().unwrap().request_token(None).await.unwrap_err());
        }
    }
    // DPoP: the key (the P-256 key above, whose PEM lines are secrets), bound tokens through a
    // cache and the bearer client with a nonce the server rotates, UserInfo with a bound user
    // token and servers that echo it, a bearer logic with another key refused.
    let dpop = DpopKey::new(keys[1].clone()).unwrap();
    leaks.show(&dpop);
    for (adapter, http) in oauth2_kit_test_support::adapters() {
        leaks.show(&adapter);
        let bound = OAuth2Client::builder(
            server.authorization_server(),
            ClientAuth::new("leak", CLIENT_SECRET),
            http.clone(),
        )
        .dpop(dpop.clone())
        .build()
        .unwrap();
        leaks.show(&bound);
        let tokens = oauth2_kit_cache_tokio::caching(bound.client_credentials().unwrap());
        let api = BearerClient::new(http.clone(), BearerAuth::new(tokens.clone(), None));
        leaks.show(api.auth());
        server.rotate_dpop_nonce();
        let resource = || http::Request::get(server.resource_url().as_str()).body(Bytes::new()).unwrap();
        leaks.show(&api.execute(resource()).await.unwrap());
        leaks.token(&tokens.get(None).await.unwrap());
        server.rotate_dpop_nonce();
        leaks.show(&api.execute(resource()).await.unwrap());
        let other = DpopKey::generate().unwrap();
        let refused =
            BearerClient::new(http.clone(), BearerAuth::builder(tokens.clone()).dpop(other).build());
        leaks.error(&refused.execute(resource()).await.unwrap_err());
        let user =
            bound.password().unwrap().request_token("leaker", &Password::new(PASSWORD), None).await.unwrap();
        leaks.token(&user);
        let userinfo = bound.userinfo().unwrap();
        leaks.show(&userinfo.fetch(user.access_token()).await.unwrap());
        for fault in echoes(user.access_token().expose_secret()).into_iter().take(6) {
            server.inject(Route::UserInfo, fault, 1);
            leaks.error(&userinfo.fetch(user.access_token()).await.unwrap_err());
        }
        for fault in echoes(CLIENT_SECRET).into_iter().take(4) {
            server.inject(Route::Token, fault, 1);
            leaks.error(&bound.client_credentials().unwrap().request_token(None).await.unwrap_err());
        }
    }
    // The resource-server side: JWT access tokens through the layer (valid, tampered, as a DPoP
    // token, in the query string), refused for another audience; the validators' own values.
    let jwt_server = TestServer::builder()
        .jwt_access_tokens(true)
        .client(TestClient::new("leak", CLIENT_SECRET))
        .start()
        .unwrap();
    for (adapter, http) in oauth2_kit_test_support::adapters() {
        use tower::ServiceExt as _;
        leaks.show(&adapter);
        let issuer = OAuth2Client::new(
            jwt_server.authorization_server(),
            ClientAuth::new("leak", CLIENT_SECRET),
            http.clone(),
        );
        let token = issuer.client_credentials().unwrap().request_token(None).await.unwrap();
        leaks.token(&token);
        let secret = token.access_token().expose_secret();
        leaks.secret("JWT access token's signature", secret.rsplit('.').next().unwrap());
        let tokens = issuer.jwt_access_tokens(jwt_server.resource_url().as_str()).unwrap();
        leaks.show(&tokens);
        leaks.show(&tokens.validate::<serde_json::Value>(secret).await.unwrap());
        leaks.show(tokens.jwks());
        let layer = oauth2_kit_resource_server::TokenLayer::new(tokens.clone()).realm("leak");
        leaks.show(&layer);
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" })).layer(layer);
        let tampered = format!("{secret}AAAA");
        leaks.secret("tampered access token", tampered.clone());
        let query = format!("/?access_token={secret}");
        for (authorization, uri) in [
            (format!("Bearer {secret}"), "/"),
            (format!("Bearer {tampered}"), "/"),
            (format!("DPoP {secret}"), "/"),
            (format!("Bearer {secret}"), query.as_str()),
        ] {
            let request = http::Request::get(uri)
                .header("authorization", authorization)
                .body(axum::body::Body::empty())
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            leaks.show(&response.status());
            leaks.show(response.headers());
        }
        let elsewhere = issuer.jwt_access_tokens("https://elsewhere.example").unwrap();
        let refused = elsewhere.validate::<serde_json::Value>(secret).await.unwrap_err();
        leaks.error(&oauth2_kit::Error::from(refused));
    }
    // Mutual TLS: client certificates' keys (PEM lines), in every value that holds them.
    let pki = oauth2_kit_test_support::pki::TestPki::new();
    for certificate in [&pki.client, &pki.self_signed] {
        let (_, key) = certificate.pem().unwrap();
        for line in key.lines().filter(|line| !line.starts_with("-----")) {
            leaks.secret("client certificate key (PEM line)", line);
        }
        leaks.show(certificate);
    }
    let reqwest = oauth2_kit_reqwest::ReqwestClient::builder()
        .client_certificate(pki.client.clone())
        .root_certificates(pki.server_ca.clone())
        .build()
        .unwrap();
    leaks.show(&reqwest);
    let isahc = oauth2_kit_isahc::IsahcClient::builder()
        .client_certificate(pki.client.clone())
        .root_certificates(pki.server_ca.clone())
        .build()
        .unwrap();
    leaks.show(&isahc);
    let mtls = OAuth2Client::new(server.authorization_server(), ClientAuth::tls_client_auth("leak"), reqwest);
    leaks.show(&mtls);
    leaks.show(&mtls.client_credentials().unwrap());

    let assertions = std::mem::take(&mut *assertions.lock().unwrap());
    assert!(assertions.len() > 40, "the assertions were kept: {}", assertions.len());
    for assertion in assertions {
        // The whole, and its signature alone.
        let signature = assertion.rsplit('.').next().unwrap().to_owned();
        leaks.secret("signed assertion or pushed login state", assertion);
        if signature.len() >= 8 {
            leaks.secret("signed assertion's signature", signature);
        }
    }

    let text = String::from_utf8_lossy(&record.0.lock().unwrap()).into_owned();
    println!(
        "leak test: {} secrets searched for in {} bytes ({} trace lines, {} values formatted)",
        leaks.secrets.len(),
        text.len(),
        text.lines().count(),
        leaks.formatted
    );
    assert!(text.contains("oauth2_kit.request"), "the traces were recorded");
    leaks.secret("basic credential", basic_credential("leak", CLIENT_SECRET));
    for (what, secret) in &leaks.secrets {
        let found = leak(&text, secret);
        assert!(found.is_none(), "a {what} leaked in: {}", found.unwrap_or_default());
    }
}
