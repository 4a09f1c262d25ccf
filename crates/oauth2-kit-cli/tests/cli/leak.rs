//! The leak test, for the binary: every command that sends a secret runs with `--verbose` (the
//! library's trace on stderr) in both output formats against answers that echo the secret in
//! every spelling a server could produce; a login, a key-authenticated client and successful
//! commands run too. No secret may appear in anything the binary printed, in any spelling.

use oauth2_kit_test_support::leak::{basic_credential, basic_echoes, echoes, leak};
use oauth2_kit_testkit::{Fault, Route, TestClient, TestServer, TestUser};

use crate::login::{complete, start};
use crate::{bin, json, run, text};

const CLIENT_ID: &str = "leak";
const CLIENT_SECRET: &str = "cli-leak-client-secret-1";
const USERNAME: &str = "leaky";
const PASSWORD: &str = "cli-leak-user-password-2";

#[test]
fn no_secret_in_what_the_binary_prints_even_verbose_even_echoed() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let public = oauth2_kit::signing::PublicKey::from_pem(&key.public_key_pem()).unwrap();
    let server = TestServer::builder()
        .client(TestClient::new(CLIENT_ID, CLIENT_SECRET))
        .client(TestClient::with_key("leak-key", public))
        .user(TestUser::new(USERNAME, PASSWORD))
        .refresh_token_rotation(false)
        .start()
        .unwrap();
    let cli = || {
        let mut command = bin();
        command
            .env("OAUTH2_ISSUER", server.issuer().as_str())
            .env("OAUTH2_CLIENT_ID", CLIENT_ID)
            .env("OAUTH2_CLIENT_SECRET", CLIENT_SECRET)
            .env("OAUTH2_PASSWORD", PASSWORD)
            .arg("--verbose");
        command
    };
    let mut secrets: Vec<(&str, String)> = vec![
        ("client secret", CLIENT_SECRET.into()),
        ("basic credential", basic_credential(CLIENT_ID, CLIENT_SECRET)),
        ("password", PASSWORD.into()),
    ];
    let mut printed = String::new();
    let mut runs = 0;
    let mut record = |output: &std::process::Output| {
        runs += 1;
        printed.push_str(&text(&output.stdout));
        printed.push_str(&text(&output.stderr));
    };

    // The user's tokens, revealed once (not recorded) to be searched for afterwards.
    let issued = json(&run(
        cli().args(["token", "--grant", "password", "--username", USERNAME, "--output", "json", "--reveal"]),
        "",
    ));
    let access = issued["access_token"].as_str().unwrap().to_owned();
    let refresh = issued["refresh_token"].as_str().unwrap().to_owned();
    secrets.push(("access token", access.clone()));
    secrets.push(("refresh token", refresh.clone()));

    let password_grant = ["token", "--grant", "password", "--username", USERNAME];
    let cases: Vec<(Route, Vec<&str>, String, &str)> = vec![
        (Route::Token, vec!["token"], String::new(), CLIENT_SECRET),
        (Route::Token, password_grant.to_vec(), String::new(), PASSWORD),
        (
            Route::Token,
            vec!["token", "--grant", "refresh", "--refresh-token-stdin"],
            format!("{refresh}\n"),
            &refresh,
        ),
        (
            Route::Token,
            vec!["token", "--grant", "token-exchange", "--subject-token-stdin"],
            format!("{access}\n"),
            &access,
        ),
        (Route::Introspection, vec!["introspect", "-"], format!("{access}\n"), &access),
        (Route::UserInfo, vec!["userinfo", "-"], format!("{access}\n"), &access),
        (Route::Revocation, vec!["revoke", "-"], format!("{access}\n"), &access),
    ];
    for (route, args, stdin, secret) in &cases {
        let mut faults = echoes(secret);
        // A server can echo only the credentials it was sent: UserInfo gets the user's token.
        if *route != Route::UserInfo {
            faults.extend(basic_echoes(CLIENT_ID, CLIENT_SECRET));
        }
        for fault in faults {
            for output in ["human", "json"] {
                server.inject(*route, fault.clone(), 1);
                let ran = run(cli().args(args).args(["--output", output]), stdin);
                assert!(!ran.status.success(), "{args:?} succeeded despite the fault");
                record(&ran);
            }
        }
        server.clear_faults();
    }
    // Successful commands on the tokens: they are redacted.
    for (args, stdin) in [
        (vec!["introspect", "-"], format!("{access}\n")),
        (vec!["userinfo", "-"], format!("{access}\n")),
        (password_grant.to_vec(), String::new()),
        (vec!["token", "--grant", "refresh", "--refresh-token-stdin"], format!("{refresh}\n")),
    ] {
        for output in ["human", "json"] {
            let ran = run(cli().args(&args).args(["--output", output]), &stdin);
            assert!(ran.status.success(), "{args:?}: {}", text(&ran.stderr));
            record(&ran);
        }
    }
    // A client that signs assertions with its key (a file), and one such run refused.
    let dir = std::env::temp_dir().join(format!("oauth2-kit-cli-leak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("key.pem");
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    for line in key.serialize_pem().lines().filter(|line| !line.starts_with("-----")) {
        secrets.push(("private key (PEM line)", line.to_owned()));
    }
    for fault in [None, Some(Fault::status(401).with_body(r#"{"error":"invalid_client"}"#))] {
        if let Some(fault) = fault {
            server.inject(Route::Token, fault, 1);
        }
        let ran = run(
            cli().env("OAUTH2_CLIENT_ID", "leak-key").env_remove("OAUTH2_CLIENT_SECRET").args([
                "token",
                "--client-key-file",
                key_file.to_str().unwrap(),
                "--output",
                "json",
            ]),
            "",
        );
        record(&ran);
    }
    std::fs::remove_dir_all(&dir).unwrap();

    // A login: its code and the tokens it got must not show.
    let (child, stderr, link) =
        start(cli().args(["login", "--no-browser", "--scope", "openid", "--output", "json"]));
    let (callback, _) = complete(&link, USERNAME);
    let code = callback.query_pairs().find(|(name, _)| name == "code").unwrap().1.into_owned();
    secrets.push(("authorization code", code));
    let logged_in = child.wait_with_output().unwrap();
    assert!(logged_in.status.success());
    record(&logged_in);
    let rest = stderr.rest();
    printed.push_str(&rest);

    assert!(printed.contains("oauth2_kit"), "the trace was recorded");
    println!(
        "cli leak test: {} secrets searched for in {} bytes of output of {} runs",
        secrets.len(),
        printed.len(),
        runs
    );
    for (what, secret) in &secrets {
        let found = leak(&printed, secret);
        assert!(found.is_none(), "a {what} leaked in: {}", found.unwrap_or_default());
    }
}
