//! JWTs from an issuer, checked: the key set cache (one fetch shared, the unknown-`kid`
//! cooldown, `Cache-Control`, stale-if-error, a fetching caller that goes away) and JWT access
//! tokens refused for every reason RFC 9068 gives.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError, TransportErrorKind};
use oauth2_kit::jwt::{AccessTokenClaims, Jwks, JwksPolicy, JwtAccessTokens, JwtError};
use oauth2_kit::signing::{JwsAlgorithm, JwtSigner as _, PrivateKey};
use oauth2_kit::{Clock as _, Endpoint, Issuer};
use serde_json::{Value, json};

use crate::support::InstantSleeps;

const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "https://api.example";

/// A gate requests wait at until it opens.
#[derive(Default)]
struct Gate {
    state: Mutex<(bool, Vec<Waker>)>,
}

impl Gate {
    fn closed() -> Self {
        Self::default()
    }

    fn open(&self) {
        let wakers = {
            let mut state = self.state.lock().unwrap();
            state.0 = true;
            std::mem::take(&mut state.1)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    fn close(&self) {
        self.state.lock().unwrap().0 = false;
    }

    async fn pass(&self) {
        std::future::poll_fn(|cx| {
            let mut state = self.state.lock().unwrap();
            if state.0 {
                Poll::Ready(())
            } else {
                state.1.push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
    }
}

/// An issuer's `jwks_uri`: publishes the keys it is given, counts fetches, can be down, can
/// hold requests at a gate, can send `Cache-Control`.
struct KeyServer {
    keys: Mutex<Vec<Value>>,
    fetches: AtomicUsize,
    down: Mutex<bool>,
    cache_control: Mutex<Option<&'static str>>,
    gate: Gate,
}

impl KeyServer {
    fn new(keys: &[&PrivateKey]) -> Arc<Self> {
        let gate = Gate::closed();
        gate.open();
        Arc::new(Self {
            keys: Mutex::new(keys.iter().map(|key| key.public_key().to_jwk()).collect()),
            fetches: AtomicUsize::new(0),
            down: Mutex::new(false),
            cache_control: Mutex::new(None),
            gate,
        })
    }

    fn publish(&self, key: &PrivateKey) {
        self.keys.lock().unwrap().push(key.public_key().to_jwk());
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl HttpClient for KeyServer {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.gate.pass().await;
        if *self.down.lock().unwrap() {
            return Err(TransportError::new(TransportErrorKind::Connect));
        }
        let body = json!({ "keys": *self.keys.lock().unwrap() }).to_string();
        let mut response = http::Response::new(Bytes::from(body));
        response.headers_mut().insert("content-type", "application/jwk-set+json".parse().unwrap());
        if let Some(cache_control) = *self.cache_control.lock().unwrap() {
            response.headers_mut().insert("cache-control", cache_control.parse().unwrap());
        }
        Ok(response)
    }
}

fn key(alg: JwsAlgorithm, kid: &str) -> PrivateKey {
    PrivateKey::generate(alg).unwrap().with_key_id(kid)
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// A JWT with `header` (its `alg` and `kid` from `key` unless given) and `claims`, signed by
/// `key`.
fn sign(key: &PrivateKey, header: Value, claims: &Value) -> String {
    let mut full = json!({ "alg": key.algorithm().as_str(), "kid": key.key_id(), "typ": "at+jwt" });
    for (name, value) in header.as_object().unwrap() {
        full[name] = value.clone();
    }
    let input = format!("{}.{}", b64(&full), b64(claims));
    let signature = futures_lite::future::block_on(key.sign(input.as_bytes())).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// RFC 9068 claims, issued now by the clock.
fn claims(clock: &InstantSleeps) -> Value {
    let now = clock.system_time().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "client_id": "client-1",
        "iat": now, "exp": now + 300, "jti": "id-1", "scope": "orders:read profile",
    })
}

struct Setup {
    server: Arc<KeyServer>,
    clock: Arc<InstantSleeps>,
    jwks: Jwks,
    tokens: JwtAccessTokens,
}

fn setup(keys: &[&PrivateKey]) -> Setup {
    let server = KeyServer::new(keys);
    let clock = InstantSleeps::new();
    let endpoint = Endpoint::new("https://issuer.example/jwks".parse().unwrap()).unwrap();
    let jwks = Jwks::builder(endpoint, server.clone()).clock(clock.clone()).build().unwrap();
    let issuer: Issuer = ISSUER.parse().unwrap();
    let tokens = JwtAccessTokens::new(jwks.clone(), &issuer, AUDIENCE).with_clock(clock.clone());
    Setup { server, clock, jwks, tokens }
}

fn validate(tokens: &JwtAccessTokens, token: &str) -> Result<AccessTokenClaims, JwtError> {
    futures_lite::future::block_on(tokens.validate(token))
}

type Validation<'a> = Pin<Box<dyn Future<Output = Result<AccessTokenClaims, JwtError>> + 'a>>;

/// Polls every future once (in order); returns the outputs of those that finished, keeps the
/// others.
fn poll_all<'a>(pending: &mut VecDeque<Validation<'a>>) -> Vec<Result<AccessTokenClaims, JwtError>> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut done = Vec::new();
    for _ in 0..pending.len() {
        let mut future = pending.pop_front().unwrap();
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => done.push(output),
            Poll::Pending => pending.push_back(future),
        }
    }
    done
}

#[test]
fn tokens_signed_with_a_new_key_share_one_fetch() {
    let (k1, k2) = (key(JwsAlgorithm::ES256, "k1"), key(JwsAlgorithm::RS256, "k2"));
    let s = setup(&[&k1]);
    let first = validate(&s.tokens, &sign(&k1, json!({}), &claims(&s.clock))).unwrap();
    assert_eq!((first.sub.as_deref(), first.client_id.as_deref()), (Some("user-1"), Some("client-1")));
    assert!(first.has_scope("orders:read") && !first.has_scope("orders:write"));
    assert_eq!(s.server.fetches(), 1, "the cold fetch");

    // The issuer rotates to k2 right after: the first tokens signed with it find it, through one
    // fetch that all of them wait for.
    s.server.publish(&k2);
    s.server.gate.close();
    let token = sign(&k2, json!({}), &claims(&s.clock));
    let mut pending: VecDeque<Validation<'_>> =
        (0..200).map(|_| Box::pin(s.tokens.validate(&token)) as _).collect();
    assert!(poll_all(&mut pending).is_empty(), "all wait for the key set");
    assert_eq!(s.server.fetches(), 2, "one refetch for 200 tokens");
    s.server.gate.open();
    let done = poll_all(&mut pending);
    assert_eq!(done.len(), 200);
    assert!(done.iter().all(Result::is_ok), "{:?}", done.iter().find(|r| r.is_err()));
    assert_eq!(s.server.fetches(), 2);
    assert_eq!(s.jwks.fetches(), 2);
    // And later tokens use the kept set.
    validate(&s.tokens, &token).unwrap();
    assert_eq!(s.server.fetches(), 2);
}

#[test]
fn made_up_kids_cost_at_most_one_fetch_per_cooldown() {
    let k1 = key(JwsAlgorithm::ES256, "k1");
    let s = setup(&[&k1]);
    validate(&s.tokens, &sign(&k1, json!({}), &claims(&s.clock))).unwrap();
    assert_eq!(s.server.fetches(), 1);
    let forged = |n: usize| sign(&k1, json!({ "kid": format!("made-up-{n}") }), &claims(&s.clock));
    for n in 0..100 {
        assert!(matches!(validate(&s.tokens, &forged(n)), Err(JwtError::UnknownKey)), "{n}");
    }
    assert_eq!(s.server.fetches(), 2, "one refetch, then the cooldown");
    s.clock.advance(Duration::from_secs(29));
    assert!(matches!(validate(&s.tokens, &forged(100)), Err(JwtError::UnknownKey)));
    assert_eq!(s.server.fetches(), 2);
    s.clock.advance(Duration::from_secs(1));
    for n in 101..150 {
        assert!(matches!(validate(&s.tokens, &forged(n)), Err(JwtError::UnknownKey)));
    }
    assert_eq!(s.server.fetches(), 3, "30 s later: one more");
    // A known key still works throughout, with no fetch.
    validate(&s.tokens, &sign(&k1, json!({}), &claims(&s.clock))).unwrap();
    assert_eq!(s.server.fetches(), 3);
}

#[test]
fn the_cooldown_starts_at_a_refetch_not_at_the_cold_fetch() {
    let (k1, k2) = (key(JwsAlgorithm::ES256, "k1"), key(JwsAlgorithm::EdDSA, "k2"));
    let s = setup(&[&k1]);
    validate(&s.tokens, &sign(&k1, json!({}), &claims(&s.clock))).unwrap();
    // Published a second after the service started: the first token signed with it finds it.
    s.clock.advance(Duration::from_secs(1));
    s.server.publish(&k2);
    validate(&s.tokens, &sign(&k2, json!({}), &claims(&s.clock))).unwrap();
    assert_eq!(s.server.fetches(), 2);

    // A cold cache meeting an unknown kid does not fetch twice: its set is as new as can be.
    let k3 = key(JwsAlgorithm::ES256, "k3");
    let cold = setup(&[&k1]);
    assert!(matches!(
        validate(&cold.tokens, &sign(&k3, json!({}), &claims(&cold.clock))),
        Err(JwtError::UnknownKey)
    ));
    assert_eq!(cold.server.fetches(), 1);
}

#[test]
fn freshness_follows_cache_control_and_one_caller_refreshes() {
    let k1 = key(JwsAlgorithm::ES256, "k1");
    let s = setup(&[&k1]);
    *s.server.cache_control.lock().unwrap() = Some("public, max-age=120");
    let token = || sign(&k1, json!({}), &claims(&s.clock));
    validate(&s.tokens, &token()).unwrap();
    s.clock.advance(Duration::from_secs(119));
    validate(&s.tokens, &token()).unwrap();
    assert_eq!(s.server.fetches(), 1, "fresh for 120 s");
    s.clock.advance(Duration::from_secs(1));
    // Stale: one caller fetches (held at the gate), the others use the kept set meanwhile.
    s.server.gate.close();
    let first = token();
    let mut refreshing: VecDeque<Validation<'_>> = VecDeque::from([Box::pin(s.tokens.validate(&first)) as _]);
    assert!(poll_all(&mut refreshing).is_empty());
    assert_eq!(s.server.fetches(), 2);
    for _ in 0..10 {
        validate(&s.tokens, &token()).unwrap();
    }
    assert_eq!(s.server.fetches(), 2, "no second fetch while one runs");
    s.server.gate.open();
    assert!(poll_all(&mut refreshing).pop().unwrap().is_ok());
    validate(&s.tokens, &token()).unwrap();
    assert_eq!(s.server.fetches(), 2);
}

#[test]
fn the_last_good_set_is_kept_while_the_endpoint_fails_within_a_bound() {
    let k1 = key(JwsAlgorithm::PS256, "k1");
    let s = setup(&[&k1]);
    let token = || sign(&k1, json!({}), &claims(&s.clock));
    validate(&s.tokens, &token()).unwrap();
    *s.server.down.lock().unwrap() = true;
    s.clock.advance(Duration::from_secs(601));
    validate(&s.tokens, &token()).expect("the stale set");
    assert_eq!(s.server.fetches(), 2);
    for _ in 0..10 {
        validate(&s.tokens, &token()).unwrap();
    }
    assert_eq!(s.server.fetches(), 2, "the failure is remembered for 5 s");
    s.clock.advance(Duration::from_secs(5));
    validate(&s.tokens, &token()).unwrap();
    assert_eq!(s.server.fetches(), 3);
    // Past the bound (24 h past freshness), the stale set is no longer used.
    s.clock.advance(Duration::from_secs(24 * 3600));
    match validate(&s.tokens, &token()) {
        Err(error @ JwtError::KeysUnavailable(_)) => {
            assert!(!error.is_token_fault());
            assert!(oauth2_kit::Error::from(error).is_retryable());
        }
        other => panic!("{other:?}"),
    }
    // Back up: the next attempt after the error's 5 s gets the set.
    *s.server.down.lock().unwrap() = false;
    s.clock.advance(Duration::from_secs(5));
    validate(&s.tokens, &token()).unwrap();

    // Cold and down: the failure, not a token fault.
    let cold = setup(&[&k1]);
    *cold.server.down.lock().unwrap() = true;
    assert!(matches!(validate(&cold.tokens, &token()), Err(JwtError::KeysUnavailable(_))));
}

#[test]
fn a_refetch_whose_caller_goes_away_holds_the_cooldown_only_as_a_failure_would() {
    let (k1, k2) = (key(JwsAlgorithm::ES256, "k1"), key(JwsAlgorithm::ES256, "k2"));
    let s = setup(&[&k1]);
    validate(&s.tokens, &sign(&k1, json!({}), &claims(&s.clock))).unwrap();
    // A made-up kid's refetch, abandoned (the client hung up) before the set came back.
    s.server.gate.close();
    let forged = sign(&k1, json!({"kid": "made-up"}), &claims(&s.clock));
    let mut abandoned: VecDeque<Validation<'_>> = VecDeque::from([Box::pin(s.tokens.validate(&forged)) as _]);
    assert!(poll_all(&mut abandoned).is_empty());
    drop(abandoned);
    s.server.gate.open();
    assert_eq!(s.server.fetches(), 2);
    // The issuer rotates: the first token with the new key is found 5 s later, not 30.
    s.server.publish(&k2);
    let token = sign(&k2, json!({}), &claims(&s.clock));
    assert!(matches!(validate(&s.tokens, &token), Err(JwtError::UnknownKey)));
    s.clock.advance(Duration::from_secs(5));
    validate(&s.tokens, &token).unwrap();
    assert_eq!(s.server.fetches(), 3);
}

#[test]
fn a_fetch_whose_caller_goes_away_is_taken_over_by_a_waiter() {
    let k1 = key(JwsAlgorithm::ES256, "k1");
    let s = setup(&[&k1]);
    let token = sign(&k1, json!({}), &claims(&s.clock));
    s.server.gate.close();
    let mut leader: VecDeque<Validation<'_>> = VecDeque::from([Box::pin(s.tokens.validate(&token)) as _]);
    let mut waiter: VecDeque<Validation<'_>> = VecDeque::from([Box::pin(s.tokens.validate(&token)) as _]);
    assert!(poll_all(&mut leader).is_empty());
    assert!(poll_all(&mut waiter).is_empty());
    assert_eq!(s.server.fetches(), 1);
    drop(leader);
    s.server.gate.open();
    let done = poll_all(&mut waiter);
    assert!(matches!(done.as_slice(), [Ok(_)]), "{done:?}");
    assert_eq!(s.server.fetches(), 2, "the waiter fetched again");
}

/// What a refusal must be.
type Expected = fn(&JwtError) -> bool;

#[test]
fn bad_tokens_are_refused_each_for_its_reason() {
    let (es, rs) = (key(JwsAlgorithm::ES256, "es"), key(JwsAlgorithm::RS256, "rs"));
    let other = key(JwsAlgorithm::ES256, "es");
    let s = setup(&[&es, &rs]);
    let good = claims(&s.clock);
    let with = |changes: Value| {
        let mut claims = good.clone();
        for (name, value) in changes.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(name);
            } else {
                claims[name] = value.clone();
            }
        }
        claims
    };
    let now = good["iat"].as_u64().unwrap();
    let unsigned = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "at+jwt"})), b64(&good));
    // HS256 with the RSA key's public JWK as the secret: the classic confusion attack.
    let hs256 = {
        use hmac::Mac as _;
        let input = format!("{}.{}", b64(&json!({"alg": "HS256", "kid": "rs", "typ": "at+jwt"})), b64(&good));
        let secret = rs.public_key().to_jwk().to_string();
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    };
    let valid = sign(&es, json!({}), &good);
    let truncated = valid.get(..valid.len() - 10).unwrap().to_owned();
    let huge = sign(&es, json!({}), &with(json!({ "padding": "x".repeat(1024 * 1024) })));
    let cases: Vec<(&str, String, Expected)> = vec![
        ("alg none", unsigned, |e| matches!(e, JwtError::AlgorithmNotAllowed)),
        ("HS256 with the public key", hs256, |e| matches!(e, JwtError::AlgorithmNotAllowed)),
        ("expired", sign(&es, json!({}), &with(json!({"exp": now - 61}))), |e| {
            matches!(e, JwtError::Expired)
        }),
        ("not yet valid", sign(&es, json!({}), &with(json!({"nbf": now + 61}))), |e| {
            matches!(e, JwtError::NotYetValid)
        }),
        ("issued in the future", sign(&es, json!({}), &with(json!({"iat": now + 61}))), |e| {
            matches!(e, JwtError::IssuedInFuture)
        }),
        ("wrong iss", sign(&es, json!({}), &with(json!({"iss": "https://issuer.example/"}))), |e| {
            matches!(e, JwtError::WrongIssuer)
        }),
        ("wrong aud", sign(&es, json!({}), &with(json!({"aud": ["https://other.example"]}))), |e| {
            matches!(e, JwtError::WrongAudience)
        }),
        ("no aud", sign(&es, json!({}), &with(json!({"aud": null}))), |e| {
            matches!(e, JwtError::MissingClaim("aud"))
        }),
        ("no exp", sign(&es, json!({}), &with(json!({"exp": null}))), |e| {
            matches!(e, JwtError::MissingClaim("exp"))
        }),
        ("no sub", sign(&es, json!({}), &with(json!({"sub": null}))), |e| {
            matches!(e, JwtError::MissingClaim("sub"))
        }),
        ("no client_id", sign(&es, json!({}), &with(json!({"client_id": null}))), |e| {
            matches!(e, JwtError::MissingClaim("client_id"))
        }),
        ("no jti", sign(&es, json!({}), &with(json!({"jti": null}))), |e| {
            matches!(e, JwtError::MissingClaim("jti"))
        }),
        ("exp a string", sign(&es, json!({}), &with(json!({"exp": "tomorrow"}))), |e| {
            matches!(e, JwtError::Malformed)
        }),
        ("typ JWT", sign(&es, json!({"typ": "JWT"}), &good), |e| matches!(e, JwtError::WrongType)),
        ("no typ", sign(&es, json!({"typ": null}), &good), |e| matches!(e, JwtError::WrongType)),
        ("unknown kid after a refetch", sign(&es, json!({"kid": "gone"}), &good), |e| {
            matches!(e, JwtError::UnknownKey)
        }),
        ("a kid for another algorithm", sign(&es, json!({"kid": "rs"}), &good), |e| {
            matches!(e, JwtError::AlgorithmNotAllowed)
        }),
        ("signed by another key with the same kid", sign(&other, json!({}), &good), |e| {
            matches!(e, JwtError::BadSignature)
        }),
        (
            "claims changed after signing",
            {
                let (head, rest) = valid.split_once('.').unwrap();
                let (_, signature) = rest.split_once('.').unwrap();
                format!("{head}.{}.{signature}", b64(&with(json!({"sub": "admin"}))))
            },
            |e| matches!(e, JwtError::BadSignature),
        ),
        ("critical header", sign(&es, json!({"crit": ["b64"], "b64": false}), &good), |e| {
            matches!(e, JwtError::UnsupportedCritical)
        }),
        (
            "bound to a key it cannot check (cnf.jwk)",
            sign(&es, json!({}), &with(json!({"cnf": {"jwk": {"kty": "EC"}}}))),
            |e| matches!(e, JwtError::Malformed),
        ),
        ("cnf.jkt not a string", sign(&es, json!({}), &with(json!({"cnf": {"jkt": ["a"]}}))), |e| {
            matches!(e, JwtError::Malformed)
        }),
        ("truncated", truncated, |e| matches!(e, JwtError::Malformed | JwtError::BadSignature)),
        ("1 MB", huge, |e| matches!(e, JwtError::TooLarge { limit: 16384 })),
        ("encrypted (five parts)", "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d".to_owned(), |e| {
            matches!(e, JwtError::Malformed)
        }),
        ("not a JWT", "opaque-token-value".to_owned(), |e| matches!(e, JwtError::Malformed)),
    ];
    validate(&s.tokens, &valid).expect("the control");
    for (name, token, expected) in cases {
        let error = validate(&s.tokens, &token).unwrap_err();
        assert!(expected(&error), "{name}: {error:?}");
        assert!(error.is_token_fault(), "{name}");
        assert!(!error.to_string().contains("user-1"), "{name}: no claim value in {error}");
    }
    assert_eq!(s.server.fetches(), 2, "one cold fetch, one refetch for the unknown kid");

    // Legacy tokens: typ JWT or none, no RFC 9068 claims; iss, aud, exp still checked.
    let legacy = s.tokens.clone().with_legacy_tokens();
    let bare = with(json!({"sub": null, "client_id": null, "jti": null, "iat": null}));
    validate(&legacy, &sign(&es, json!({"typ": "JWT"}), &bare)).unwrap();
    validate(&legacy, &sign(&es, json!({"typ": null}), &bare)).unwrap();
    assert!(matches!(
        validate(&legacy, &sign(&es, json!({"typ": "dpop+jwt"}), &bare)),
        Err(JwtError::WrongType)
    ));
    let expired = with(json!({"exp": now - 61}));
    assert!(matches!(validate(&legacy, &sign(&es, json!({"typ": "JWT"}), &expired)), Err(JwtError::Expired)));
    // The issuer's ID tokens are not access tokens, whatever their `aud`.
    for marker in ["nonce", "at_hash", "c_hash"] {
        let mut id_token = bare.clone();
        id_token[marker] = "x".into();
        let refused = validate(&legacy, &sign(&es, json!({"typ": "JWT"}), &id_token));
        assert!(matches!(refused, Err(JwtError::WrongType)), "{marker}: {refused:?}");
    }
    // Scopes as servers write them: empty, an array, `scp` (Azure AD, Okta).
    for (claims, read) in [
        (with(json!({"scope": ""})), None),
        (with(json!({"scope": ["orders:read", "profile"]})), Some("orders:read profile")),
        (with(json!({"scope": null, "scp": "orders:read"})), Some("orders:read")),
        (with(json!({"scope": null, "scp": ["a", "b"]})), Some("a b")),
    ] {
        let claims = validate(&s.tokens, &sign(&es, json!({}), &claims)).unwrap();
        assert_eq!(claims.scope.as_ref().map(|scope| scope.as_str()), read);
    }

    // The algorithm allow-list.
    let es_only = s.tokens.clone().with_algorithms(&[JwsAlgorithm::ES256, JwsAlgorithm::HS256]);
    validate(&es_only, &valid).unwrap();
    assert!(matches!(validate(&es_only, &sign(&rs, json!({}), &good)), Err(JwtError::AlgorithmNotAllowed)));
}

#[test]
fn claims_of_the_services_own_type() {
    #[derive(Debug, serde::Deserialize)]
    struct Tenant {
        tenant: String,
        roles: Vec<String>,
    }
    let k1 = key(JwsAlgorithm::EdDSA, "k1");
    let s = setup(&[&k1]);
    let mut claims = claims(&s.clock);
    claims["tenant"] = "acme".into();
    claims["roles"] = json!(["admin"]);
    claims["cnf"] = json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"});
    let token = sign(&k1, json!({}), &claims);
    let validated = futures_lite::future::block_on(s.tokens.validate::<Tenant>(&token)).unwrap();
    assert_eq!(
        (validated.extra.tenant.as_str(), validated.extra.roles.as_slice()),
        ("acme", &["admin".to_owned()][..])
    );
    assert_eq!(validated.cnf.unwrap().jkt.as_deref(), Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"));
    claims.as_object_mut().unwrap().remove("tenant");
    let token = sign(&k1, json!({}), &claims);
    assert!(matches!(
        futures_lite::future::block_on(s.tokens.validate::<Tenant>(&token)),
        Err(JwtError::Malformed)
    ));
}

#[test]
fn a_shorter_cooldown_from_the_policy() {
    let k1 = key(JwsAlgorithm::ES256, "k1");
    let server = KeyServer::new(&[&k1]);
    let clock = InstantSleeps::new();
    let endpoint = Endpoint::new("https://issuer.example/jwks".parse().unwrap()).unwrap();
    let jwks = Jwks::builder(endpoint, server.clone())
        .clock(clock.clone())
        .policy(JwksPolicy::default().with_refetch_cooldown(Duration::from_secs(5)))
        .build()
        .unwrap();
    let tokens = JwtAccessTokens::new(jwks, &ISSUER.parse().unwrap(), AUDIENCE).with_clock(clock.clone());
    validate(&tokens, &sign(&k1, json!({}), &claims(&clock))).unwrap();
    for step in 0..3 {
        assert!(validate(&tokens, &sign(&k1, json!({"kid": "x"}), &claims(&clock))).is_err());
        assert_eq!(server.fetches(), 2 + step);
        clock.advance(Duration::from_secs(5));
    }
}

/// An OpenID provider: its token endpoint answers with an ID token made by `id_token` from the
/// code's access token, its `jwks_uri` publishes `key`.
struct Provider {
    key: PrivateKey,
    claims: Mutex<Value>,
    header: Mutex<Value>,
}

const ACCESS_TOKEN: &str = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";

#[async_trait::async_trait]
impl HttpClient for Provider {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let body = if request.uri().path() == "/jwks" {
            json!({ "keys": [self.key.public_key().to_jwk()] })
        } else {
            let id_token = sign(&self.key, self.header.lock().unwrap().clone(), &self.claims.lock().unwrap());
            json!({ "access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 300, "id_token": id_token })
        };
        let mut response = http::Response::new(Bytes::from(body.to_string()));
        response.headers_mut().insert("content-type", "application/json".parse().unwrap());
        Ok(response)
    }
}

mod id_tokens {
    use oauth2_kit::grant::authorization_code::{AuthorizationCodeProvider, Callback};
    use oauth2_kit::{AuthorizationServer, ClientAuth, Error, OAuth2Client};

    use super::*;

    fn rsa_key() -> PrivateKey {
        static KEY: std::sync::OnceLock<PrivateKey> = std::sync::OnceLock::new();
        KEY.get_or_init(|| key(JwsAlgorithm::RS256, "rsa-1")).clone()
    }

    fn login(
        claims: impl FnOnce(&mut Value, &str),
        header: Value,
        server: impl FnOnce(AuthorizationServer) -> AuthorizationServer,
    ) -> Result<oauth2_kit::TokenResponse, Error> {
        let provider = Arc::new(Provider {
            key: rsa_key(),
            claims: Mutex::new(Value::Null),
            header: Mutex::new(json!({ "typ": "JWT" })),
        });
        for (name, value) in header.as_object().unwrap() {
            provider.header.lock().unwrap()[name] = value.clone();
        }
        let base = AuthorizationServer::new()
            .authorization("https://op.example/authorize".parse().unwrap())
            .token("https://op.example/token".parse().unwrap());
        let server = server(base);
        let client = OAuth2Client::new(server, ClientAuth::new("web-app", "web-secret"), provider.clone());
        let flow: AuthorizationCodeProvider =
            client.authorization_code("https://app.example/cb".parse().unwrap())?.build()?;
        let link = futures_lite::future::block_on(async { flow.login_link().nonce() })?.build()?;
        let nonce = link.pending().nonce().unwrap().expose_secret().to_owned();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let mut id_claims = json!({
            "iss": "https://op.example", "sub": "user-1", "aud": "web-app", "iat": now, "exp": now + 300,
            "nonce": nonce, "at_hash": "77QmUPtjPfzWtF2AnpK9RQ", "email": "jane@example.com",
        });
        claims(&mut id_claims, &nonce);
        *provider.claims.lock().unwrap() = id_claims;
        let state = link.pending().state().expose_secret().to_owned();
        let callback = Callback::from_query(&format!("code=c-1&state={state}")).unwrap();
        futures_lite::future::block_on(flow.complete_login(link.pending(), &callback))
    }

    fn full(server: AuthorizationServer) -> AuthorizationServer {
        server
            .issuer("https://op.example".parse().unwrap(), false)
            .jwks(Endpoint::new("https://op.example/jwks".parse().unwrap()).unwrap())
    }

    fn refused(result: Result<oauth2_kit::TokenResponse, Error>) -> JwtError {
        match result {
            Err(Error::Jwt(error)) => error,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_code_flow_validates_the_id_token_and_returns_its_claims() {
        let token = login(|_, _| {}, json!({}), full).unwrap();
        let claims = token.id_token_claims().expect("validated");
        assert_eq!((claims.sub.as_str(), claims.iss.as_str()), ("user-1", "https://op.example"));
        #[derive(serde::Deserialize)]
        struct Profile {
            email: String,
        }
        assert_eq!(claims.extra_as::<Profile>().unwrap().email, "jane@example.com");
        let shown = format!("{claims:?}");
        assert!(shown.contains("user-1") && shown.contains("email") && !shown.contains("jane@"), "{shown}");
        // Several audiences, with `azp` naming this client.
        let token = login(
            |c, _| {
                c["aud"] = json!(["web-app", "api"]);
                c["azp"] = "web-app".into();
            },
            json!({}),
            full,
        )
        .unwrap();
        assert!(token.id_token_claims().is_some());
        // No at_hash: nothing to compare.
        login(|c, _| drop(c.as_object_mut().unwrap().remove("at_hash")), json!({}), full).unwrap();
    }

    #[test]
    fn id_tokens_are_refused_for_each_reason_core_gives() {
        type Change = fn(&mut Value, &str);
        let cases: Vec<(&str, Change, Expected)> = vec![
            ("another nonce", |c, _| c["nonce"] = "other".into(), |e| matches!(e, JwtError::NonceMismatch)),
            (
                "no nonce",
                |c, _| drop(c.as_object_mut().unwrap().remove("nonce")),
                |e| matches!(e, JwtError::NonceMismatch),
            ),
            (
                "the nonce in another case",
                |c, n| c["nonce"] = n.to_uppercase().into(),
                |e| matches!(e, JwtError::NonceMismatch),
            ),
            (
                "another audience",
                |c, _| c["aud"] = "other-app".into(),
                |e| matches!(e, JwtError::WrongAudience),
            ),
            (
                "several audiences, no azp",
                |c, _| c["aud"] = json!(["web-app", "api"]),
                |e| matches!(e, JwtError::WrongAudience),
            ),
            (
                "azp another client",
                |c, _| c["azp"] = "other-app".into(),
                |e| matches!(e, JwtError::WrongAudience),
            ),
            (
                "another issuer",
                |c, _| c["iss"] = "https://evil.example".into(),
                |e| matches!(e, JwtError::WrongIssuer),
            ),
            (
                "at_hash of another token",
                |c, _| c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA".into(),
                |e| matches!(e, JwtError::HashMismatch("at_hash")),
            ),
            (
                "c_hash of another code",
                |c, _| c["c_hash"] = "AAAAAAAAAAAAAAAAAAAAAA".into(),
                |e| matches!(e, JwtError::HashMismatch("c_hash")),
            ),
            (
                "expired",
                |c, _| c["exp"] = json!(c["iat"].as_u64().unwrap() - 3600),
                |e| matches!(e, JwtError::Expired),
            ),
            (
                "no iat",
                |c, _| drop(c.as_object_mut().unwrap().remove("iat")),
                |e| matches!(e, JwtError::MissingClaim("iat")),
            ),
            (
                "no sub",
                |c, _| drop(c.as_object_mut().unwrap().remove("sub")),
                |e| matches!(e, JwtError::Malformed),
            ),
        ];
        for (name, change, expected) in cases {
            let error = refused(login(change, json!({}), full));
            assert!(expected(&error), "{name}: {error:?}");
        }
        // The algorithm: RS256 unless the server lists others; never none.
        let error = refused(login(|_, _| {}, json!({ "alg": "PS256" }), full));
        assert!(matches!(error, JwtError::AlgorithmNotAllowed | JwtError::BadSignature), "{error:?}");
        // Signed by a key the server does not publish under that kid.
        let error = refused(login(|_, _| {}, json!({ "kid": "other" }), full));
        assert!(matches!(error, JwtError::UnknownKey), "{error:?}");
    }

    #[test]
    fn an_id_token_that_cannot_be_validated_is_an_error_not_a_pass() {
        for (name, server) in [
            (
                "no issuer",
                (|s: AuthorizationServer| {
                    s.jwks(Endpoint::new("https://op.example/jwks".parse().unwrap()).unwrap())
                }) as fn(_) -> _,
            ),
            ("no key set", |s: AuthorizationServer| s.issuer("https://op.example".parse().unwrap(), false)),
        ] {
            match login(|_, _| {}, json!({}), server) {
                Err(Error::Config(error)) => assert!(!error.to_string().is_empty(), "{name}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}

/// An authorization server whose introspection endpoint answers with what the test sets: a
/// signed JWT (`application/token-introspection+jwt`) or plain JSON.
struct SigningIntrospector {
    key: PrivateKey,
    answer: Mutex<(String, &'static str)>,
    accept: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl HttpClient for SigningIntrospector {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let (body, content_type) = if request.uri().path() == "/jwks" {
            (json!({ "keys": [self.key.public_key().to_jwk()] }).to_string(), "application/json")
        } else {
            let accept =
                request.headers().get("accept").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            self.accept.lock().unwrap().push(accept);
            self.answer.lock().unwrap().clone()
        };
        let mut response = http::Response::new(Bytes::from(body));
        response.headers_mut().insert("content-type", content_type.parse().unwrap());
        Ok(response)
    }
}

mod signed_introspection {
    use oauth2_kit::{AccessToken, AuthorizationServer, ClientAuth, Error, OAuth2Client};

    use super::*;

    const JWT_TYPE: &str = "application/token-introspection+jwt";

    fn setup() -> (Arc<SigningIntrospector>, OAuth2Client) {
        let server = Arc::new(SigningIntrospector {
            key: key(JwsAlgorithm::ES256, "k1"),
            answer: Mutex::new((String::new(), JWT_TYPE)),
            accept: Mutex::default(),
        });
        let endpoints = AuthorizationServer::new()
            .introspection(Endpoint::new("https://as.example/introspect".parse().unwrap()).unwrap())
            .jwks(Endpoint::new("https://as.example/jwks".parse().unwrap()).unwrap())
            .issuer("https://as.example".parse().unwrap(), false);
        let client = OAuth2Client::new(endpoints, ClientAuth::new("orders-api", "secret"), server.clone());
        (server, client)
    }

    fn signed(server: &SigningIntrospector, header: Value, claims: Value) -> String {
        sign(&server.key, header, &claims)
    }

    fn claims() -> Value {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        json!({ "iss": "https://as.example", "aud": "orders-api", "iat": now,
            "token_introspection": { "active": true, "client_id": "c1", "scope": "read" } })
    }

    fn introspect(client: &OAuth2Client, required: bool) -> Result<oauth2_kit::IntrospectionResponse, Error> {
        let introspection = client.introspection().unwrap();
        let introspection = if required { introspection.signed_responses().unwrap() } else { introspection };
        futures_lite::future::block_on(introspection.introspect(&AccessToken::new("t-1")))
    }

    #[test]
    fn a_signed_answer_is_checked_before_it_is_believed() {
        let (server, client) = setup();
        let typ = json!({ "typ": "token-introspection+jwt" });
        *server.answer.lock().unwrap() = (signed(&server, typ.clone(), claims()), JWT_TYPE);
        let info = introspect(&client, true).unwrap();
        assert!(info.active && info.client_id.as_deref() == Some("c1"));
        assert_eq!(server.accept.lock().unwrap().last().unwrap(), JWT_TYPE, "asked for a signed answer");
        // Not asked, but sent signed anyway: checked all the same.
        assert!(introspect(&client, false).unwrap().active);
        assert_eq!(server.accept.lock().unwrap().last().unwrap(), "application/json");

        let with = |name: &str, value: Value| {
            let mut claims = claims();
            claims[name] = value;
            claims
        };
        let other = key(JwsAlgorithm::ES256, "k1");
        let cases: Vec<(&str, String, Expected)> = vec![
            ("another audience", signed(&server, typ.clone(), with("aud", json!("other-api"))), |e| {
                matches!(e, JwtError::WrongAudience)
            }),
            (
                "another issuer",
                signed(&server, typ.clone(), with("iss", json!("https://evil.example"))),
                |e| matches!(e, JwtError::WrongIssuer),
            ),
            (
                "issued in the future",
                signed(&server, typ.clone(), with("iat", json!(9_999_999_999u64))),
                |e| matches!(e, JwtError::IssuedInFuture),
            ),
            ("another typ", signed(&server, json!({ "typ": "JWT" }), claims()), |e| {
                matches!(e, JwtError::WrongType)
            }),
            ("signed by another key", sign(&other, typ.clone(), &claims()), |e| {
                matches!(e, JwtError::BadSignature)
            }),
            (
                "no response inside",
                signed(
                    &server,
                    typ.clone(),
                    json!({ "iss": "https://as.example", "aud": "orders-api", "iat": 1 }),
                ),
                |e| matches!(e, JwtError::Malformed),
            ),
            (
                "a response without active",
                signed(&server, typ.clone(), with("token_introspection", json!({ "scope": "read" }))),
                |e| matches!(e, JwtError::InvalidClaim("token_introspection")),
            ),
            (
                "an old answer replayed",
                signed(&server, typ.clone(), with("iat", json!(claims()["iat"].as_u64().unwrap() - 120))),
                |e| matches!(e, JwtError::Expired),
            ),
        ];
        for (name, body, expected) in cases {
            *server.answer.lock().unwrap() = (body, JWT_TYPE);
            for required in [true, false] {
                match introspect(&client, required) {
                    Err(Error::Jwt(error)) => assert!(expected(&error), "{name}: {error:?}"),
                    other => panic!("{name}: {other:?}"),
                }
            }
        }
        // A plain answer where a signed one is required: refused; otherwise taken.
        *server.answer.lock().unwrap() = (r#"{"active":true}"#.to_owned(), "application/json");
        assert!(matches!(introspect(&client, true), Err(Error::Jwt(JwtError::WrongType))));
        assert!(introspect(&client, false).unwrap().active);
    }

    #[test]
    fn signed_answers_need_the_issuer_and_its_keys() {
        let endpoints = AuthorizationServer::new()
            .introspection(Endpoint::new("https://as.example/introspect".parse().unwrap()).unwrap());
        let client = OAuth2Client::new(
            endpoints,
            ClientAuth::new("orders-api", "secret"),
            crate::support::Script::new(&[]),
        );
        assert!(client.introspection().unwrap().signed_responses().is_err());
    }
}
