//! Validating one JWT access token (RS256 and ES256): oauth2-kit's `JwtAccessTokens::validate`
//! (the header, the `kid` lookup in the kept key set, the signature, the RFC 9068 checks, the
//! claims decoded), against the crypto crate's raw verification of the same signature, and
//! against `jsonwebtoken::decode` with the key already in hand (RustCrypto backend, the same
//! crates): all in one group and one run.

use std::hint::black_box;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use oauth2_kit::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use oauth2_kit::jwt::{Jwks, JwtAccessTokens};
use oauth2_kit::signing::{JwsAlgorithm, JwtSigner as _, PrivateKey};
use oauth2_kit::{Endpoint, Issuer};
use rsa::signature::Verifier as _;
use serde_json::{Map, Value, json};

const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "https://api.example";

/// The issuer's `jwks_uri`, in process.
struct KeySet(Value);

#[async_trait::async_trait]
impl HttpClient for KeySet {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
        Ok(http::Response::new(bytes::Bytes::from(self.0.to_string())))
    }
}

/// The registered claims and the others, as a service decoding with jsonwebtoken would.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: u64,
    iat: u64,
    jti: String,
    client_id: String,
    scope: String,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("jwt_validation");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "client_id": "client-1", "iat": now,
        "exp": now + 3600, "jti": "0b6f6e2a-1c7d-4c1e-9a43-1f0c2b8f5e11", "scope": "orders:read profile",
        "tenant": "acme",
    });
    for alg in [JwsAlgorithm::RS256, JwsAlgorithm::ES256] {
        let key = PrivateKey::generate(alg).unwrap().with_key_id("k1");
        let jwk = key.public_key().to_jwk();
        let header = json!({ "alg": alg.as_str(), "kid": "k1", "typ": "at+jwt" });
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let signature = futures_lite::future::block_on(key.sign(input.as_bytes())).unwrap();
        let token = format!("{input}.{}", b64(&signature));

        // oauth2-kit, the key set fetched and kept (as after the first request).
        let endpoint = Endpoint::new("https://issuer.example/jwks".parse().unwrap()).unwrap();
        let jwks = Jwks::builder(endpoint, KeySet(json!({ "keys": [jwk.clone()] }))).build().unwrap();
        let issuer: Issuer = ISSUER.parse().unwrap();
        let tokens = JwtAccessTokens::new(jwks, &issuer, AUDIENCE);
        futures_lite::future::block_on(tokens.validate::<Map<String, Value>>(&token)).unwrap();

        // jsonwebtoken, the key in hand.
        let member = |name: &str| jwk[name].as_str().unwrap().to_owned();
        let (decoding, algorithm) = match alg {
            JwsAlgorithm::RS256 => (
                jsonwebtoken::DecodingKey::from_rsa_components(&member("n"), &member("e")).unwrap(),
                jsonwebtoken::Algorithm::RS256,
            ),
            _ => (
                jsonwebtoken::DecodingKey::from_ec_components(&member("x"), &member("y")).unwrap(),
                jsonwebtoken::Algorithm::ES256,
            ),
        };
        let mut validation = jsonwebtoken::Validation::new(algorithm);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<Claims>(&token, &decoding, &validation).unwrap();

        // The raw signature check, the key in hand and the signature decoded.
        let raw: Box<dyn Fn() -> bool> = match alg {
            JwsAlgorithm::RS256 => {
                let n = URL_SAFE_NO_PAD.decode(member("n")).unwrap();
                let e = URL_SAFE_NO_PAD.decode(member("e")).unwrap();
                let public =
                    rsa::RsaPublicKey::new(rsa::BigUint::from_bytes_be(&n), rsa::BigUint::from_bytes_be(&e)).unwrap();
                let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public);
                let signature = rsa::pkcs1v15::Signature::try_from(signature.as_slice()).unwrap();
                let input = input.clone();
                Box::new(move || verifier.verify(black_box(input.as_bytes()), black_box(&signature)).is_ok())
            }
            _ => {
                let x = URL_SAFE_NO_PAD.decode(member("x")).unwrap();
                let y = URL_SAFE_NO_PAD.decode(member("y")).unwrap();
                let point = p256::EncodedPoint::from_affine_coordinates(
                    p256::FieldBytes::from_slice(&x),
                    p256::FieldBytes::from_slice(&y),
                    false,
                );
                let verifier = p256::ecdsa::VerifyingKey::from_encoded_point(&point).unwrap();
                let signature = p256::ecdsa::Signature::from_slice(&signature).unwrap();
                let input = input.clone();
                Box::new(move || verifier.verify(black_box(input.as_bytes()), black_box(&signature)).is_ok())
            }
        };
        assert!(raw());

        let name = alg.as_str();
        group.bench_function(format!("{name}_raw_signature"), |b| b.iter(|| black_box(raw())));
        group.bench_function(format!("{name}_jsonwebtoken_decode"), |b| {
            b.iter(|| jsonwebtoken::decode::<Claims>(black_box(&token), &decoding, &validation).unwrap())
        });
        group.bench_function(format!("{name}_oauth2_kit_validate"), |b| {
            b.iter(|| {
                futures_lite::future::block_on(tokens.validate::<Map<String, Value>>(black_box(&token))).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
