//! Against the embedded testkit server.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, TestServer};
use serde_json::Value;

use crate::{bin, no_secret, run, text};

/// The binary with the server's issuer and client in its environment (the secret in
/// `OAUTH2_CLIENT_SECRET`).
pub(crate) fn cli(server: &TestServer) -> Command {
    let mut command = bin();
    command
        .env("OAUTH2_ISSUER", server.issuer().as_str())
        .env("OAUTH2_CLIENT_ID", DEFAULT_CLIENT_ID)
        .env("OAUTH2_CLIENT_SECRET", DEFAULT_CLIENT_SECRET);
    command
}

/// `token` for the testkit's user by the password grant, its password in the environment.
fn user_token(server: &TestServer) -> Command {
    let mut command = cli(server);
    command.env("OAUTH2_PASSWORD", oauth2_kit_testkit::DEFAULT_PASSWORD).args([
        "token",
        "--grant",
        "password",
        "--username",
        oauth2_kit_testkit::DEFAULT_USERNAME,
    ]);
    command
}

#[test]
fn token_introspect_revoke_in_every_output_format() {
    let server = TestServer::start().unwrap();
    // Raw: the access token alone, for a pipe.
    let raw = run(cli(&server).args(["token", "--scope", "read", "--output", "raw"]), "");
    assert!(raw.status.success(), "{}", text(&raw.stderr));
    let token = text(&raw.stdout).trim().to_owned();
    assert!(token.len() > 20);
    no_secret(&raw, &[DEFAULT_CLIENT_SECRET]);

    // Human and JSON: redacted, unless --reveal.
    let human = run(cli(&server).args(["token", "--scope", "read"]), "");
    assert!(human.status.success());
    let shown = text(&human.stdout);
    assert!(
        shown.contains("access_token") && shown.contains("<redacted: ") && shown.contains("scope"),
        "{shown}"
    );
    let json = run(cli(&server).args(["token", "--scope", "read", "--output", "json"]), "");
    let object: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(object["token_type"], "Bearer");
    assert!(object["access_token"].as_str().unwrap().starts_with("<redacted"));
    let revealed = run(cli(&server).args(["token", "--output", "json", "--reveal"]), "");
    let object: Value = serde_json::from_slice(&revealed.stdout).unwrap();
    let second = object["access_token"].as_str().unwrap().to_owned();
    assert!(!second.starts_with('<') && second.len() > 20);
    for output in [&human, &json] {
        no_secret(output, &[DEFAULT_CLIENT_SECRET]);
    }

    // The token from standard input: introspected, revoked, introspected again.
    let introspected = run(cli(&server).args(["introspect", "-", "--output", "json"]), &format!("{token}\n"));
    assert!(introspected.status.success(), "{}", text(&introspected.stderr));
    let object: Value = serde_json::from_slice(&introspected.stdout).unwrap();
    assert_eq!(
        (object["active"].as_bool(), object["client_id"].as_str()),
        (Some(true), Some(DEFAULT_CLIENT_ID))
    );
    no_secret(&introspected, &[&token, DEFAULT_CLIENT_SECRET]);
    let revoked = run(cli(&server).args(["revoke", "-"]), &format!("{token}\n"));
    assert!(revoked.status.success());
    no_secret(&revoked, &[&token, DEFAULT_CLIENT_SECRET]);
    let after = run(cli(&server).args(["introspect", "-", "--output", "json"]), &format!("{token}\n"));
    let object: Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(object["active"].as_bool(), Some(false));

    // A token on the command line works, with a warning.
    let warned = run(cli(&server).args(["introspect", &second]), "");
    assert!(warned.status.success());
    assert!(text(&warned.stderr).contains("warning: a token on the command line"));
}

#[test]
fn each_kind_of_failure_has_its_exit_code_and_one_line() {
    let server = TestServer::start().unwrap();
    // The server refuses: 3, with its error code and what to try.
    let refused = run(cli(&server).env("OAUTH2_CLIENT_SECRET", "wrong-secret-value").args(["token"]), "");
    assert_eq!(refused.status.code(), Some(3));
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("invalid_client") && stderr.contains("check the client id"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    no_secret(&refused, &["wrong-secret-value"]);
    // Nothing listening: 4.
    let unreachable = run(
        cli(&server).env_remove("OAUTH2_ISSUER").args(["token", "--token-url", "http://127.0.0.1:9/token"]),
        "",
    );
    assert_eq!(unreachable.status.code(), Some(4), "{}", text(&unreachable.stderr));
    // A usage error: 2.
    let usage = run(cli(&server).args(["token", "--no-such-flag"]), "");
    assert_eq!(usage.status.code(), Some(2));
    // A local error (no client id): 1.
    let local = run(cli(&server).env_remove("OAUTH2_CLIENT_ID").args(["token"]), "");
    assert_eq!(local.status.code(), Some(1));
    assert!(text(&local.stderr).contains("--client-id"));
}

#[test]
fn secrets_from_standard_input_a_file_or_the_command_line_with_a_warning() {
    let server = TestServer::start().unwrap();
    let from_stdin = run(
        cli(&server).env_remove("OAUTH2_CLIENT_SECRET").args(["token", "--client-secret-stdin"]),
        &format!("{DEFAULT_CLIENT_SECRET}\n"),
    );
    assert!(from_stdin.status.success(), "{}", text(&from_stdin.stderr));
    let file = std::env::temp_dir().join(format!("oauth2-kit-cli-test-{}", std::process::id()));
    std::fs::write(&file, format!("{DEFAULT_CLIENT_SECRET}\n")).unwrap();
    let from_file = run(
        cli(&server).env_remove("OAUTH2_CLIENT_SECRET").args([
            "token",
            "--client-secret-file",
            file.to_str().unwrap(),
        ]),
        "",
    );
    std::fs::remove_file(&file).unwrap();
    assert!(from_file.status.success(), "{}", text(&from_file.stderr));
    let on_line = run(
        cli(&server).env_remove("OAUTH2_CLIENT_SECRET").args([
            "token",
            "--client-secret",
            DEFAULT_CLIENT_SECRET,
        ]),
        "",
    );
    assert!(on_line.status.success());
    assert!(text(&on_line.stderr).contains("warning: a client secret on the command line"));
    for output in [&from_stdin, &from_file, &on_line] {
        no_secret(output, &[DEFAULT_CLIENT_SECRET]);
    }
    // The password grant, its password from the environment.
    let password = run(user_token(&server).args(["--output", "json"]), "");
    assert!(password.status.success(), "{}", text(&password.stderr));
    no_secret(&password, &[oauth2_kit_testkit::DEFAULT_PASSWORD]);
}

#[test]
fn discover_jwt_and_completions() {
    let server = TestServer::builder().jwt_access_tokens(true).start().unwrap();
    let discovered = run(cli(&server).args(["discover", "--output", "json"]), "");
    assert!(discovered.status.success(), "{}", text(&discovered.stderr));
    let object: Value = serde_json::from_slice(&discovered.stdout).unwrap();
    assert_eq!(object["token_endpoint"], server.token_endpoint().to_string());
    assert_eq!(object["jwks_uri"], server.jwks_endpoint().to_string());

    let raw = run(cli(&server).args(["token", "--output", "raw"]), "");
    let token = text(&raw.stdout).trim().to_owned();
    let verified = run(cli(&server).args(["jwt", "-", "--output", "json"]), &format!("{token}\n"));
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    let object: Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(object["header"]["typ"], "at+jwt");
    assert_eq!(object["claims"]["client_id"], DEFAULT_CLIENT_ID);
    assert!(object["signature"].as_str().unwrap().starts_with("verified"));
    // Decoded only, without an issuer.
    let decoded = run(
        cli(&server).env_remove("OAUTH2_ISSUER").args(["jwt", "-", "--output", "json"]),
        &format!("{token}\n"),
    );
    let object: Value = serde_json::from_slice(&decoded.stdout).unwrap();
    assert!(object["signature"].as_str().unwrap().starts_with("not verified"), "{object}");
    assert!(object["expiry"].as_str().unwrap().starts_with("in "), "{object}");
    // The issuer exactly as typed: with a `/` the server does not have, another issuer.
    let slashed = format!("{}/", server.issuer().as_str());
    let other = run(cli(&server).args(["discover", "--issuer", &slashed]), "");
    assert_eq!(other.status.code(), Some(3), "{}", text(&other.stderr));
    // A key set that is no key set: refused (3), not "unreachable".
    server.inject(oauth2_kit_testkit::Route::Jwks, oauth2_kit_testkit::Fault::body("not a key set"), 1);
    let unreadable = run(cli(&server).args(["jwt", "-"]), &format!("{token}\n"));
    assert_eq!(unreadable.status.code(), Some(3), "{}", text(&unreadable.stderr));
    // Tampered: refused, exit 3.
    let (head, rest) = token.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    use base64::Engine as _;
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"sub":"admin"}"#);
    let forged = format!("{head}.{claims}.{signature}");
    let refused = run(cli(&server).args(["jwt", "-"]), &format!("{forged}\n"));
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));

    let completions = run(cli(&server).args(["completions", "bash"]), "");
    assert!(completions.status.success());
    assert!(text(&completions.stdout).contains("oauth2-kit"));
}

#[test]
fn the_testkit_command_serves_a_server_the_other_commands_use() {
    let (child, printed) = crate::testkit_server(&[]);
    let issuer = printed["issuer"].as_str().unwrap().to_owned();
    assert!(issuer.starts_with("http://127.0.0.1:"));
    assert_eq!(printed["clients"][0]["client_id"], DEFAULT_CLIENT_ID);
    assert_eq!(printed["users"][0]["username"], oauth2_kit_testkit::DEFAULT_USERNAME);
    let token = bin()
        .env("OAUTH2_CLIENT_SECRET", printed["clients"][0]["client_secret"].as_str().unwrap())
        .args(["token", "--issuer", &issuer, "--client-id", DEFAULT_CLIENT_ID, "--output", "raw"])
        .output()
        .unwrap();
    crate::stop(child);
    assert!(token.status.success(), "{}", text(&token.stderr));
    assert!(!text(&token.stdout).trim().is_empty());
}

#[test]
fn device_flow_approved_through_the_server_then_userinfo_of_its_token() {
    let server =
        TestServer::builder().device_interval(Some(std::time::Duration::from_secs(1))).start().unwrap();
    let mut child = cli(&server)
        .args(["device", "--scope", "openid profile", "--output", "raw"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.as_mut().unwrap()).read_line(&mut line).unwrap();
    // "open http://.../device and enter the code ABCD-EFGH (within 10:00)"
    let code = line.split("enter the code ").nth(1).and_then(|rest| rest.split_whitespace().next()).unwrap();
    assert!(line.starts_with("open http://127.0.0.1:"), "{line}");
    assert!(server.approve_device(code), "{line}");
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let token = text(&output.stdout).trim().to_owned();
    assert!(token.len() > 20);

    let me = run(cli(&server).args(["userinfo", "-", "--output", "json"]), &format!("{token}\n"));
    assert!(me.status.success(), "{}", text(&me.stderr));
    let object: Value = serde_json::from_slice(&me.stdout).unwrap();
    assert_eq!(object["sub"], oauth2_kit_testkit::DEFAULT_USERNAME);
    no_secret(&me, &[&token]);
    // A token the server does not know: refused, 3.
    let refused = run(cli(&server).args(["userinfo", "-"]), "made-up-token-value\n");
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
}

#[test]
fn token_exchange_for_an_audience_with_an_actor() {
    let server = TestServer::start().unwrap();
    let user = run(user_token(&server).args(["--scope", "read write", "--output", "raw"]), "");
    let user_token = text(&user.stdout).trim().to_owned();
    let service = run(cli(&server).args(["token", "--output", "raw"]), "");
    let service_token = text(&service.stdout).trim().to_owned();
    let exchanged = run(
        cli(&server).env("ACTOR", &service_token).args([
            "token",
            "--grant",
            "token-exchange",
            "--subject-token-stdin",
            "--actor-token-env",
            "ACTOR",
            "--audience",
            "https://orders.example",
            "--scope",
            "read",
            "--output",
            "json",
            "--reveal",
        ]),
        &format!("{user_token}\n"),
    );
    let object = crate::json(&exchanged);
    assert_eq!(object["issued_token_type"], "urn:ietf:params:oauth:token-type:access_token");
    assert_eq!(object["scope"], "read");
    let new_token = object["access_token"].as_str().unwrap().to_owned();
    let introspected = crate::json(&run(
        cli(&server).args(["introspect", "-", "--output", "json"]),
        &format!("{new_token}\n"),
    ));
    assert_eq!(introspected["sub"], oauth2_kit_testkit::DEFAULT_USERNAME);
    assert!(introspected["aud"].to_string().contains("https://orders.example"), "{introspected}");
    // A subject token the server does not know: refused.
    let refused = run(
        cli(&server).args(["token", "--grant", "token-exchange", "--subject-token-stdin"]),
        "made-up-subject-token\n",
    );
    assert_eq!(refused.status.code(), Some(3));
    assert!(text(&refused.stderr).contains("invalid_grant"));
    // An unknown token type is a local error.
    let local = run(
        cli(&server).args([
            "token",
            "--grant",
            "token-exchange",
            "--subject-token-stdin",
            "--subject-token-type",
            "cookie",
        ]),
        "x\n",
    );
    assert_eq!(local.status.code(), Some(1));
}

#[test]
fn mutual_tls_client_authentication_and_certificate_bound_tokens() {
    let server = TestServer::builder()
        .mutual_tls()
        .client(oauth2_kit_testkit::TestClient::tls_client_auth("payments", "payments-service"))
        .start()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("oauth2-kit-cli-mtls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let root = write("root.pem", &server.tls_root_certificate().unwrap());
    let issued = server.issue_client_certificate("payments-service").unwrap();
    let (chain, key) = issued.pem().unwrap();
    let (chain, key) = (write("client.pem", chain), write("client.key", key));
    let stranger = server.issue_client_certificate("someone-else").unwrap();
    let (other_chain, other_key) = stranger.pem().unwrap();
    let (other_chain, other_key) = (write("other.pem", other_chain), write("other.key", other_key));
    let cli = |command_name: &str, chain: &str, key: &str| {
        let mut command = bin();
        command
            .env("OAUTH2_ISSUER", server.issuer().as_str())
            .env("OAUTH2_CLIENT_ID", "payments")
            .arg(command_name)
            .args([
                "--auth-method",
                "tls-client-auth",
                "--client-certificate",
                chain,
                "--client-certificate-key",
                key,
                "--ca-file",
                &root,
            ]);
        command
    };
    let token = run(cli("token", &chain, &key).args(["--output", "raw"]), "");
    assert!(token.status.success(), "{}", text(&token.stderr));
    let token = text(&token.stdout).trim().to_owned();
    let introspected = crate::json(&run(
        cli("introspect", &chain, &key).args(["-", "--output", "json"]),
        &format!("{token}\n"),
    ));
    assert_eq!(introspected["active"].as_bool(), Some(true));
    assert!(introspected["cnf"]["x5t#S256"].as_str().is_some_and(|x5t| !x5t.is_empty()), "{introspected}");
    // Another client's certificate: refused.
    let refused = run(&mut cli("token", &other_chain, &other_key), "");
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    // No certificate: a local error.
    let missing = run(
        bin().env("OAUTH2_ISSUER", server.issuer().as_str()).args([
            "token",
            "--client-id",
            "payments",
            "--auth-method",
            "tls-client-auth",
        ]),
        "",
    );
    assert_eq!(missing.status.code(), Some(1));
    // No key in any output.
    let key_text = std::fs::read_to_string(&key).unwrap();
    let key_lines: Vec<&str> = key_text.lines().filter(|line| !line.starts_with("-----")).collect();
    no_secret(&refused, &key_lines);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn what_cannot_work_is_said_before_anything_is_sent() {
    let server = TestServer::builder()
        .device_interval(Some(std::time::Duration::from_secs(1)))
        .device_code_lifetime(std::time::Duration::from_secs(1))
        .start()
        .unwrap();
    // Two things from standard input: a usage error.
    let both = run(cli(&server).args(["introspect", "-", "--client-secret-stdin"]), "secret\ntoken\n");
    assert_eq!(both.status.code(), Some(2));
    assert!(text(&both.stderr).contains("only one thing can come from standard input"));
    // A callback path the listener could not route.
    for path in ["/:x", "/./callback", "/a/../cb", "//cb", "/caf%C3%A9"] {
        let refused = run(cli(&server).args(["login", "--no-browser", "--callback-path", path]), "");
        assert_eq!(refused.status.code(), Some(1), "{path}: {}", text(&refused.stderr));
    }
    // Not a JWT: the input's fault (1), no server's.
    let garbage = run(cli(&server).args(["jwt", "-"]), "not-a-jwt\n");
    assert_eq!(garbage.status.code(), Some(1), "{}", text(&garbage.stderr));
    // A reader that has gone: no panic.
    let mut completions = bin().args(["completions", "bash"]).stdout(Stdio::piped()).spawn().unwrap();
    drop(completions.stdout.take());
    assert_eq!(completions.wait().unwrap().code(), Some(0));
    // An ID token that could not be checked: said before the login.
    let explicit = run(
        cli(&server).env_remove("OAUTH2_ISSUER").args([
            "login",
            "--no-browser",
            "--scope",
            "openid",
            "--authorization-url",
            server.authorization_endpoint().as_str(),
            "--token-url",
            server.token_endpoint().as_str(),
        ]),
        "",
    );
    assert_eq!(explicit.status.code(), Some(1));
    assert!(text(&explicit.stderr).contains("give --issuer"), "{}", text(&explicit.stderr));
    assert!(!text(&explicit.stderr).contains("http://"), "no link was shown: {}", text(&explicit.stderr));
    // Plain http to another machine: refused before any request, in the tool's words.
    let insecure = run(
        cli(&server).env_remove("OAUTH2_ISSUER").args(["token", "--token-url", "http://auth.example/token"]),
        "",
    );
    assert_eq!(insecure.status.code(), Some(1));
    let said = text(&insecure.stderr);
    assert!(said.contains("use https") && !said.contains("Endpoint::"), "{said}");
    // A device code nobody approves: refused (3) when it expires.
    let expired = run(cli(&server).args(["device"]), "");
    assert_eq!(expired.status.code(), Some(3), "{}", text(&expired.stderr));
}

#[test]
fn what_a_server_sends_cannot_redraw_the_terminal() {
    let server = TestServer::builder()
        .user(
            oauth2_kit_testkit::TestUser::new("mallory", "mallory-password")
                .name("Mallory\u{1b}[2K\nemail_verified      true"),
        )
        .start()
        .unwrap();
    let token = run(
        cli(&server).env("OAUTH2_PASSWORD", "mallory-password").args([
            "token",
            "--grant",
            "password",
            "--username",
            "mallory",
            "--output",
            "raw",
        ]),
        "",
    );
    let me = run(cli(&server).args(["userinfo", "-"]), &text(&token.stdout));
    let shown = text(&me.stdout);
    assert!(!shown.contains('\u{1b}'), "{shown}");
    assert!(shown.contains(r"Mallory\u{1b}[2K\nemail_verified"), "{shown}");
    assert_eq!(shown.lines().filter(|line| line.starts_with("email_verified")).count(), 1, "{shown}");
}
