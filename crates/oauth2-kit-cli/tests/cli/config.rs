//! The files the tool reads: the profiles of the configuration file, and the testkit server's
//! description of its clients, users and keys.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use oauth2_kit_test_support::browser::Browser;
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, TestServer};
use serde_json::Value;

use crate::login::{http, link, runtime};
use crate::{Stderr, bin, json, no_secret, run, text};

/// A directory of this test's own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("oauth2-kit-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `oauth2-kit testkit` with `args`, running; and what it printed (one JSON object).
fn testkit(args: &[&str]) -> (Child, Value) {
    let mut child = bin()
        .args(["testkit", "--port", "0", "--output", "json"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    if line.is_empty() {
        let output = child.wait_with_output().unwrap();
        panic!("testkit printed nothing: {}", text(&output.stderr));
    }
    (child, serde_json::from_str(&line).unwrap())
}

fn stop(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn profiles_fill_what_the_command_line_leaves_out() {
    let server = TestServer::start().unwrap();
    let dir = TempDir::new("profiles");
    let secret_file = dir.write("dev.secret", &format!("{DEFAULT_CLIENT_SECRET}\n"));
    let config = dir.write(
        "config.toml",
        &format!(
            r#"default = "dev"

[profiles.dev]
issuer = "{issuer}"
client_id = "{DEFAULT_CLIENT_ID}"
client_secret_file = "{secret}"
scope = "read"

[profiles.explicit]
token_url = "{token}"
client_id = "{DEFAULT_CLIENT_ID}"
client_secret_env = "EXPLICIT_SECRET"
auth_method = "post"
"#,
            issuer = server.issuer().as_str(),
            secret = secret_file.display(),
            token = server.token_endpoint(),
        ),
    );
    let cli = || {
        let mut command = bin();
        command.env("OAUTH2_KIT_CONFIG", &config);
        command
    };
    // The default profile, its scope.
    let token = json(&run(cli().args(["token", "--output", "json"]), ""));
    assert_eq!(token["scope"], "read");
    // The command line wins over the profile.
    let wider = json(&run(cli().args(["token", "--scope", "read write", "--output", "json"]), ""));
    assert_eq!(wider["scope"], "read write");
    // Another profile by name, its secret from the variable it names.
    let explicit = run(
        cli().env("EXPLICIT_SECRET", DEFAULT_CLIENT_SECRET).args([
            "token",
            "--profile",
            "explicit",
            "--output",
            "json",
        ]),
        "",
    );
    assert_eq!(json(&explicit)["token_type"], "Bearer");
    no_secret(&explicit, &[DEFAULT_CLIENT_SECRET]);
    // discover takes the profile's issuer.
    let discovered = json(&run(cli().args(["discover", "--output", "json"]), ""));
    assert_eq!(discovered["token_endpoint"], server.token_endpoint().to_string());
    // The list.
    let listed = json(&run(cli().args(["profiles", "--output", "json"]), ""));
    assert_eq!(listed["default"], "dev");
    assert_eq!(listed["profiles.dev"], server.issuer().as_str());
    assert_eq!(listed["profiles.explicit"], "(explicit endpoints)");

    // An unknown profile, and a profile that holds a secret: local errors (1), the secret not
    // repeated.
    let unknown = run(cli().args(["token", "--profile", "prod"]), "");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("no profile prod") && text(&unknown.stderr).contains("dev, explicit")
    );
    let leaky = dir.write(
        "leaky.toml",
        "[profiles.leaky]\nclient_id = \"a\"\nclient_secret = \"kept-in-the-file-0123\"\n",
    );
    let refused = run(bin().env("OAUTH2_KIT_CONFIG", &leaky).args(["token", "--profile", "leaky"]), "");
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("keep secrets out of the file"), "{}", text(&refused.stderr));
    no_secret(&refused, &["kept-in-the-file-0123"]);
    // A command without server options ignores the profiles.
    let broken = dir.write("broken.toml", "this is = not toml [");
    let decoded = run(bin().env("OAUTH2_KIT_CONFIG", &broken).args(["completions", "bash"]), "");
    assert!(decoded.status.success());
    let unreadable = run(bin().env("OAUTH2_KIT_CONFIG", &broken).args(["token"]), "");
    assert_eq!(unreadable.status.code(), Some(1));
    assert!(text(&unreadable.stderr).contains("not a valid configuration"));
}

/// A new P-256 key pair: the private key's PEM, and the public key's.
fn key_pair() -> (String, String) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    (key.serialize_pem(), key.public_key_pem())
}

#[test]
fn the_testkit_server_from_a_file_with_its_clients_users_and_keys() {
    let dir = TempDir::new("testkit");
    let (client_private, client_public) = key_pair();
    let (issuer_private, issuer_public) = key_pair();
    dir.write("signer.pub.pem", &client_public);
    dir.write("idp.pub.pem", &issuer_public);
    let client_key = dir.write("signer.pem", &client_private);
    let issuer_key = dir.write("idp.pem", &issuer_private);
    let config = dir.write(
        "testkit.toml",
        r#"jwt_access_tokens = true
login = "bob"

[[clients]]
id = "web"
secret = "web-secret"
scope = "read"

[[clients]]
id = "cli"
public = true

[[clients]]
id = "signer"
key_file = "signer.pub.pem"

[[users]]
username = "bob"
password = "bob-password"
email = "bob@example.org"

[[assertion_issuers]]
issuer = "https://idp.example"
key_file = "idp.pub.pem"
"#,
    );
    let (child, printed) = testkit(&["--config", config.to_str().unwrap()]);
    let issuer = printed["issuer"].as_str().unwrap().to_owned();
    let ids: Vec<&str> =
        printed["clients"].as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [DEFAULT_CLIENT_ID, "web", "cli", "signer"]);
    assert_eq!(printed["clients"][3]["auth"], "private_key_jwt");
    assert_eq!(printed["login"], "bob");
    assert_eq!(printed["access_tokens"], "JWT (RFC 9068)");
    let cli = |client: &str| {
        let mut command = bin();
        command.env("OAUTH2_ISSUER", &issuer).env("OAUTH2_CLIENT_ID", client);
        command
    };

    // The scope the file allows the client, and no more.
    let web = || {
        let mut command = cli("web");
        command.env("OAUTH2_CLIENT_SECRET", "web-secret");
        command
    };
    assert_eq!(json(&run(web().args(["token", "--output", "json"]), ""))["scope"], "read");
    let wider = run(web().args(["token", "--scope", "admin"]), "");
    assert_eq!(wider.status.code(), Some(3));
    // private_key_jwt with the client's key.
    let signed = run(
        cli("signer").args(["token", "--client-key-file", client_key.to_str().unwrap(), "--output", "json"]),
        "",
    );
    assert_eq!(json(&signed)["token_type"], "Bearer");
    // The JWT bearer grant with the trusted issuer's key, for the user bob.
    let bearer = run(
        web().args([
            "token",
            "--grant",
            "jwt-bearer",
            "--assertion-key-file",
            issuer_key.to_str().unwrap(),
            "--assertion-issuer",
            "https://idp.example",
            "--assertion-subject",
            "bob",
            "--output",
            "raw",
        ]),
        "",
    );
    assert!(bearer.status.success(), "{}", text(&bearer.stderr));
    let claims = json(&run(
        cli("web").args(["jwt", "-", "--output", "json"]),
        &String::from_utf8(bearer.stdout).unwrap(),
    ));
    assert_eq!(claims["claims"]["sub"], "bob");
    // The public client logs in as the file's user.
    let mut login = cli("cli")
        .args(["login", "--no-browser", "--scope", "openid", "--output", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = Stderr::of(&mut login);
    let link = link(&mut stderr);
    runtime().block_on(async {
        let mut browser = Browser::new(http(), "bob");
        let callback = browser.log_in(&link).await;
        browser.get(&callback).await
    });
    let logged_in = json(&login.wait_with_output().unwrap());
    assert_eq!(logged_in["id_token.sub"], "bob");
    stop(child);

    // A client with a secret and a key: a local error before the server starts.
    let both = dir.write("both.toml", "[[clients]]\nid = \"x\"\nsecret = \"s\"\npublic = true\n");
    let refused = run(bin().args(["testkit", "--port", "0", "--config", both.to_str().unwrap()]), "");
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("exactly one of"), "{}", text(&refused.stderr));
    assert!(Path::new(&dir.0).exists());
}
