//! What the leak tests share: servers' answers that echo a secret in every spelling a server
//! could produce, and the search for a secret, in any of those spellings, in what was recorded.

use oauth2_kit_testkit::Fault;

/// Each way [`echoes`] spells a value.
pub fn spellings(value: &str) -> [String; 6] {
    [
        percent_encoded(&percent_encoded(value, true), true),
        percent_encoded(value, true),
        percent_encoded(value, false),
        html_escaped(value),
        value.to_uppercase(),
        value.to_owned(),
    ]
}

/// `secret` with every byte percent-encoded, in upper- or lower-case hex.
pub fn percent_encoded(secret: &str, upper: bool) -> String {
    secret.bytes().map(|b| if upper { format!("%{b:02X}") } else { format!("%{b:02x}") }).collect()
}

/// `secret` with every character written as an HTML character reference.
pub fn html_escaped(secret: &str) -> String {
    secret.chars().map(|c| format!("&#{};", u32::from(c))).collect()
}

/// `Basic` credential of RFC 6749 §2.3.1, as an echoing server would quote it.
pub fn basic_credential(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
}

/// Answers that repeat `secret`, as servers do in error texts ("Invalid refresh token: ..."), in
/// every spelling a server could produce: as sent, percent-encoded, straddling the points where
/// error texts are cut (an error code's 100 characters, a description's 500), and in header
/// values that are not UTF-8.
pub fn echoes(secret: &str) -> Vec<Fault> {
    vec![
        Fault::status(400).with_body(format!(
            r#"{{"error":"invalid_grant","error_description":"Invalid value: {secret}"}}"#
        )),
        Fault::status(400).with_body(format!(r#"{{"error":"bad_{secret}"}}"#)),
        Fault::status(401).header("content-type", "text/plain").with_body(format!("unknown value {secret}")),
        Fault::status(400)
            .header("content-type", "application/problem+json")
            .with_body(format!(r#"{{"title":"Bad Request","detail":"value {secret} was revoked"}}"#)),
        Fault::status(401).header(
            "www-authenticate",
            &format!(r#"Bearer error="invalid_token", error_description="value {secret} expired""#),
        ),
        Fault::status(400).with_body(format!(
            r#"{{"error":"invalid_grant","error_description":"Invalid value: {}"}}"#,
            percent_encoded(secret, true)
        )),
        Fault::status(502)
            .header("content-type", "text/plain")
            .with_body(format!("upstream refused {}", percent_encoded(secret, false))),
        Fault::status(400).with_body(format!(
            r#"{{"error":"invalid_grant","error_description":"{}{secret}"}}"#,
            "x".repeat(488)
        )),
        Fault::status(400).with_body(format!(r#"{{"error":"{}{secret}"}}"#, "x".repeat(90))),
        Fault::status(400).with_body(r#"{"error":"invalid_grant","trace":"see header"}"#).header_bytes(
            "www-authenticate",
            &[b"Bearer realm=\"\xff\" ".as_slice(), secret.as_bytes()].concat(),
        ),
        Fault::status(400)
            .with_body(format!(r#"{{"error":"invalid_grant","extra_member":"{secret}"}}"#))
            .header_bytes(
                "content-type",
                &[b"application/json; x=\xff ".as_slice(), secret.as_bytes()].concat(),
            ),
        Fault::status(503)
            .header_bytes("retry-after", &[b"\xff".as_slice(), secret.as_bytes()].concat())
            .header("location", &format!("/{secret}?{secret}")),
        // An HTML error page that escapes what it quotes, and a value percent-encoded twice.
        Fault::status(400)
            .header("content-type", "text/html")
            .with_body(format!("<html><body>Bad value &quot;{}&quot;</body></html>", html_escaped(secret))),
        Fault::status(400).with_body(format!(
            r#"{{"error":"invalid_grant","error_description":"{}"}}"#,
            percent_encoded(&percent_encoded(secret, true), true)
        )),
        // Upper-cased, and as a member of an error body's extras.
        Fault::status(400).with_body(format!(
            r#"{{"error":"invalid_grant","hint":"{}","nested":{{"echo":["{secret}"]}}}}"#,
            secret.to_uppercase()
        )),
    ]
}

/// Answers that quote the `Authorization: Basic` credential of client `id`.
pub fn basic_echoes(id: &str, secret: &str) -> Vec<Fault> {
    let credential = basic_credential(id, secret);
    vec![
        Fault::status(401).with_body(format!(
            r#"{{"error":"invalid_client","error_description":"bad credential Basic {credential}"}}"#
        )),
        Fault::status(401)
            .header("www-authenticate", &format!(r#"Basic realm="{credential}""#))
            .with_body(format!("Authorization: Basic {credential}")),
    ]
}

/// The first line of `text` holding `secret` as sent, upper-cased, percent-encoded (either
/// case), HTML-escaped, or its first ten characters (a secret cut in two by a length limit),
/// with the secret marked `<HERE>`.
pub fn leak(text: &str, secret: &str) -> Option<String> {
    let start: String = secret.chars().take(10).collect();
    let spellings = [
        secret.to_owned(),
        secret.to_uppercase(),
        percent_encoded(secret, true),
        percent_encoded(secret, false),
        html_escaped(secret),
        start,
    ];
    spellings.iter().find_map(|spelling| {
        text.lines()
            .find(|line| line.contains(spelling.as_str()))
            .map(|line| line.replace(spelling.as_str(), "<HERE>"))
    })
}
