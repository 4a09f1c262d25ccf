//! Against oidc-provider, a real authorization server: every command, each client
//! authentication, the grants it offers, `login` as a native app, `device` approved on its page.

use std::process::Command;

use oauth2_kit::reexports::url::Url;
use oauth2_kit_test_support::OidcProvider;
use oauth2_kit_test_support::browser::Browser;

use crate::login::{complete, http, runtime, start};
use crate::{bin, json, no_secret, run, spawn, text};

/// A resource whose access tokens are JWTs (RFC 9068) signed by the server.
const JWT_RESOURCE: &str = "https://jwt-api.kit.example/";

/// The binary with the server's issuer and `client_id` (its secret, if any, in
/// `OAUTH2_CLIENT_SECRET`).
fn cli(server: &OidcProvider, client_id: &str, secret: Option<&str>) -> Command {
    let mut command = bin();
    command.env("OAUTH2_ISSUER", &server.issuer).env("OAUTH2_CLIENT_ID", client_id);
    if let Some(secret) = secret {
        command.env("OAUTH2_CLIENT_SECRET", secret);
    }
    command
}

/// A test key of the server's key clients, in a PEM file.
fn key_file(server: &OidcProvider, name: &str) -> std::path::PathBuf {
    let runtime = runtime();
    let url: Url = format!("{}/test-keys/{name}.pem", server.issuer).parse().unwrap();
    let pem = runtime.block_on(async { Browser::new(http(), "unused").get(&url).await });
    let path = std::env::temp_dir().join(format!("oauth2-kit-cli-{name}-{}.pem", std::process::id()));
    std::fs::write(&path, pem.body()).unwrap();
    path
}

#[test]
fn oidc_discover_token_introspect_revoke_and_the_exit_codes() {
    let server = OidcProvider::get();
    let discovered = json(&run(cli(&server, "kit-basic", None).args(["discover", "--output", "json"]), ""));
    assert_eq!(discovered["issuer"], server.issuer);
    assert!(
        discovered["token_endpoint_auth_methods_supported"].as_str().unwrap().contains("private_key_jwt")
    );
    let human = run(cli(&server, "kit-basic", None).args(["discover"]), "");
    assert!(text(&human.stdout).lines().any(|line| line.starts_with("jwks_uri ")), "{}", text(&human.stdout));

    let basic = || cli(&server, "kit-basic", Some("basic-secret"));
    let token = text(&run(basic().args(["token", "--scope", "read", "--output", "raw"]), "").stdout)
        .trim()
        .to_owned();
    assert!(token.len() > 20);
    let human = run(basic().args(["token", "--scope", "read write"]), "");
    assert!(text(&human.stdout).contains("scope         read write"), "{}", text(&human.stdout));
    no_secret(&human, &["basic-secret"]);

    let introspected =
        json(&run(basic().args(["introspect", "-", "--output", "json"]), &format!("{token}\n")));
    assert_eq!(
        (introspected["active"].as_bool(), introspected["client_id"].as_str()),
        (Some(true), Some("kit-basic"))
    );
    let human = run(basic().args(["introspect", "-"]), &format!("{token}\n"));
    assert!(text(&human.stdout).starts_with("active"), "{}", text(&human.stdout));
    no_secret(&human, &[&token]);
    let revoked = json(&run(basic().args(["revoke", "-", "--output", "json"]), &format!("{token}\n")));
    assert_eq!(revoked["revoked"].as_bool(), Some(true));
    let after = json(&run(basic().args(["introspect", "-", "--output", "json"]), &format!("{token}\n")));
    assert_eq!(after["active"].as_bool(), Some(false));

    // Refused (3), with the server's code and a hint, on one line; no secret echoed.
    let refused = run(cli(&server, "kit-basic", Some("not-the-secret-0123")).args(["token"]), "");
    assert_eq!(refused.status.code(), Some(3));
    let said = text(&refused.stderr);
    assert!(said.contains("invalid_client") && said.contains("--auth-method"), "{said}");
    assert_eq!(said.trim_end().lines().count(), 1);
    no_secret(&refused, &["not-the-secret-0123"]);
    let unknown_resource = run(basic().args(["token", "--resource", "https://nowhere.example/"]), "");
    assert_eq!(unknown_resource.status.code(), Some(3));
    let said = text(&unknown_resource.stderr);
    assert!(said.contains("invalid_target") && said.contains("--resource"), "{said}");
    // Unreachable (4): a port nobody listens on.
    let unreachable = run(bin().args(["discover", "--issuer", "http://127.0.0.1:9"]), "");
    assert_eq!(unreachable.status.code(), Some(4), "{}", text(&unreachable.stderr));
    // Usage (2) and local (1).
    assert_eq!(run(basic().args(["token", "--grant", "telepathy"]), "").status.code(), Some(2));
    let no_key = run(basic().args(["token", "--auth-method", "private-key-jwt"]), "");
    assert_eq!(no_key.status.code(), Some(1));
    assert!(text(&no_key.stderr).contains("--client-key-file"));
}

#[test]
fn oidc_every_client_authentication() {
    let server = OidcProvider::get();
    let post = run(
        cli(&server, "kit-post", Some("post-secret")).args([
            "token",
            "--auth-method",
            "post",
            "--output",
            "json",
        ]),
        "",
    );
    assert!(json(&post)["access_token"].as_str().unwrap().starts_with("<redacted"));
    let secret_jwt = "csjwt-secret-0123456789-0123456789-abcdef";
    let csjwt = run(
        cli(&server, "kit-csjwt", None).args([
            "token",
            "--auth-method",
            "client-secret-jwt",
            "--client-secret-stdin",
            "--output",
            "json",
        ]),
        &format!("{secret_jwt}\n"),
    );
    assert_eq!(json(&csjwt)["token_type"], "Bearer");
    no_secret(&csjwt, &[secret_jwt]);
    for (client, name, kid) in [("kit-pkjwt-ec", "ec", "ec-1"), ("kit-pkjwt-rsa", "rsa", "rsa-1")] {
        let key = key_file(&server, name);
        let signed = run(
            cli(&server, client, None).args([
                "token",
                "--client-key-file",
                key.to_str().unwrap(),
                "--client-key-id",
                kid,
                "--output",
                "json",
            ]),
            "",
        );
        let pem = std::fs::read_to_string(&key).unwrap();
        std::fs::remove_file(&key).unwrap();
        assert_eq!(json(&signed)["token_type"], "Bearer", "{client}");
        // Not a line of the key in any output.
        let body: Vec<&str> = pem.lines().filter(|line| !line.starts_with("-----")).collect();
        no_secret(&signed, &body);
    }
    // The wrong key for the client: refused.
    let key = key_file(&server, "ec");
    let wrong = run(
        cli(&server, "kit-pkjwt-rsa", None).args(["token", "--client-key-file", key.to_str().unwrap()]),
        "",
    );
    std::fs::remove_file(&key).unwrap();
    assert_eq!(wrong.status.code(), Some(3), "{}", text(&wrong.stderr));
}

#[test]
fn oidc_jwt_bearer_then_token_exchange_then_a_jwt_access_token_verified() {
    let server = OidcProvider::get();
    let key = key_file(&server, "ec");
    let bearer = run(
        cli(&server, "kit-jwt-bearer", Some("jwt-bearer-secret")).args([
            "token",
            "--grant",
            "jwt-bearer",
            "--assertion-key-file",
            key.to_str().unwrap(),
            "--assertion-issuer",
            "kit-assertion-issuer",
            "--assertion-subject",
            "dana",
            "--scope",
            "read write",
            "--output",
            "raw",
        ]),
        "",
    );
    std::fs::remove_file(&key).unwrap();
    assert!(bearer.status.success(), "{}", text(&bearer.stderr));
    let subject_token = text(&bearer.stdout).trim().to_owned();

    let exchanged = json(&run(
        cli(&server, "kit-token-exchange", Some("token-exchange-secret"))
            .env("OAUTH2_SUBJECT_TOKEN", &subject_token)
            .args(["token", "--grant", "token-exchange", "--scope", "read", "--output", "json"]),
        "",
    ));
    assert_eq!(exchanged["issued_token_type"], "urn:ietf:params:oauth:token-type:access_token");
    assert_eq!(exchanged["scope"], "read");

    // A JWT access token for a resource: decoded, and verified with the issuer's keys.
    let jwt = text(
        &run(
            cli(&server, "kit-basic", Some("basic-secret")).args([
                "token",
                "--resource",
                JWT_RESOURCE,
                "--scope",
                "read",
                "--output",
                "raw",
            ]),
            "",
        )
        .stdout,
    )
    .trim()
    .to_owned();
    let verified = json(&run(
        cli(&server, "kit-basic", None).args(["jwt", "-", "--output", "json"]),
        &format!("{jwt}\n"),
    ));
    assert_eq!(verified["claims"]["aud"], JWT_RESOURCE);
    assert_eq!(verified["claims"]["iss"], server.issuer);
    assert!(verified["signature"].as_str().unwrap().starts_with("verified"));
    let other_issuer =
        run(bin().args(["jwt", "-", "--issuer", &OidcProvider::own().issuer]), &format!("{jwt}\n"));
    assert_eq!(other_issuer.status.code(), Some(3), "{}", text(&other_issuer.stderr));
}

#[test]
fn oidc_login_as_a_native_app_then_userinfo() {
    let server = OidcProvider::get();
    let (child, _stderr, link) = start(cli(&server, "kit-native", None).args([
        "login",
        "--no-browser",
        "--scope",
        "openid email",
        "--output",
        "json",
        "--reveal",
    ]));
    let (callback, page) = complete(&link, "erin");
    // RFC 9207: oidc-provider names itself in the callback; the command checked it.
    assert!(callback.query_pairs().any(|(name, value)| name == "iss" && value == server.issuer.as_str()));
    assert_eq!(page.status(), 200, "{}", text(page.body()));
    let object = json(&child.wait_with_output().unwrap());
    assert_eq!(object["id_token.sub"], "erin");
    let token = object["access_token"].as_str().unwrap().to_owned();
    let id_token = object["id_token"].as_str().unwrap().to_owned();

    let me = json(&run(
        cli(&server, "kit-native", None).args(["userinfo", "-", "--output", "json"]),
        &format!("{token}\n"),
    ));
    assert_eq!((me["sub"].as_str(), me["email"].as_str()), (Some("erin"), Some("erin@example.com")));
    let id = json(&run(
        cli(&server, "kit-native", None).args(["jwt", "-", "--output", "json"]),
        &format!("{id_token}\n"),
    ));
    assert_eq!(id["claims"]["aud"], "kit-native");
}

#[test]
fn oidc_device_flow_approved_on_the_servers_page() {
    let server = OidcProvider::get();
    let (child, mut stderr) =
        spawn(cli(&server, "kit-device", None).args(["device", "--scope", "openid", "--output", "json"]));
    // "open URI and enter the code CODE (within m:ss)"
    let line = stderr.line(|line| line.starts_with("open "));
    let mut words = line.split_whitespace();
    let uri: Url = words.nth(1).unwrap().parse().unwrap();
    let code = line.split("enter the code ").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let runtime = runtime();
    let mut browser = Browser::new(http(), "frank");
    let body = runtime.block_on(browser.answer_device(&uri, &code, true));
    assert!(body.contains("Sign-in Success") || body.contains("success"), "{body}");
    let object = json(&child.wait_with_output().unwrap());
    assert_eq!(object["token_type"], "Bearer");
    assert!(object["access_token"].as_str().unwrap().starts_with("<redacted"));
}
