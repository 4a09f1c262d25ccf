//! The files the tool reads: the profiles of the configuration file, and the testkit server's
//! description of its clients, users and keys.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};

use oauth2_kit_test_support::browser::Browser;
use oauth2_kit_testkit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, TestServer};
use serde_json::Value;

use crate::login::{complete, http, runtime, start};
use crate::{bin, json, no_secret, run, spawn, stop, testkit_server, text};

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

/// A server that records the first request it is sent and answers it with an error.
fn recorder() -> (String, std::thread::JoinHandle<String>) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        // The head and a short form: until the body the head announces has come.
        loop {
            let read = stream.read(&mut buffer).unwrap();
            request.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&request).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|line| {
                        line.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|n| n.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length || read == 0 {
                    break;
                }
            }
        }
        let answer = "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 27\r\nconnection: close\r\n\r\n{\"error\":\"invalid_request\"}";
        stream.write_all(answer.as_bytes()).unwrap();
        String::from_utf8_lossy(&request).into_owned()
    });
    (url, handle)
}

#[test]
fn a_profiles_client_goes_only_to_its_own_server() {
    let dir = TempDir::new("profile-server");
    let secret_file = dir.write("prod.secret", "prod-secret-value-0123\n");
    let config = dir.write(
        "config.toml",
        &format!(
            "default = \"prod\"\n[profiles.prod]\nissuer = \"https://login.prod.example\"\nclient_id = \"prod-client\"\nclient_secret_file = \"{}\"\nscope = \"admin\"\n",
            secret_file.display()
        ),
    );
    let (url, recorded) = recorder();
    // Another server named, and another client: none of the profile's credentials go there.
    let sent = run(
        bin().env("OAUTH2_KIT_CONFIG", &config).env("OAUTH2_CLIENT_ID", "other-client").args([
            "token",
            "--token-url",
            &url,
        ]),
        "",
    );
    assert_eq!(sent.status.code(), Some(3), "{}", text(&sent.stderr));
    let request = recorded.join().unwrap();
    assert!(request.contains("other-client"), "{request}");
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode("prod-client:prod-secret-value-0123");
    for secret in ["prod-secret-value-0123", basic.as_str(), "prod-client"] {
        assert!(!request.contains(secret), "the profile's {secret} went to another server: {request}");
    }
    // Named, the profile is said to be left out.
    let (url, recorded) = recorder();
    let named = run(
        bin().env("OAUTH2_KIT_CONFIG", &config).env("OAUTH2_CLIENT_ID", "other-client").args([
            "token",
            "--profile",
            "prod",
            "--token-url",
            &url,
        ]),
        "",
    );
    assert!(
        text(&named.stderr).contains("the profile's server and client are not used"),
        "{}",
        text(&named.stderr)
    );
    assert!(!recorded.join().unwrap().contains("prod-secret-value-0123"));
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
client_secret_file = "{secret}"   # relative: the file's directory, not the command's
scope = "read"

[profiles.explicit]
token_url = "{token}"
client_id = "{DEFAULT_CLIENT_ID}"
client_secret_env = "EXPLICIT_SECRET"
auth_method = "post"
"#,
            issuer = server.issuer().as_str(),
            secret = secret_file.file_name().unwrap().to_str().unwrap(),
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
    let human = run(cli().args(["profiles"]), "");
    assert!(
        text(&human.stdout).lines().any(|line| line.starts_with("profiles.dev ")),
        "{}",
        text(&human.stdout)
    );
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
    let (child, printed) = testkit_server(&["--config", config.to_str().unwrap()]);
    let issuer = printed["issuer"].as_str().unwrap().to_owned();
    let ids: Vec<&str> =
        printed["clients"].as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [DEFAULT_CLIENT_ID, "web", "cli", "signer"]);
    assert_eq!(printed["clients"][3]["auth"], "private_key_jwt");
    assert_eq!(printed["login"], "bob");
    assert_eq!(printed["access_tokens"], "JWT (RFC 9068)");
    // The signing key printed is the one the server publishes.
    let kid = printed["signing_key"]["kid"].as_str().unwrap().to_owned();
    let jwks_uri: oauth2_kit::reexports::url::Url = printed["jwks_uri"].as_str().unwrap().parse().unwrap();
    let jwks = runtime().block_on(async { Browser::new(http(), "unused").get(&jwks_uri).await });
    let jwks: Value = serde_json::from_slice(jwks.body()).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], kid.as_str());
    assert!(printed["clients"][3]["public_key_file"].as_str().unwrap().ends_with("signer.pub.pem"));
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
    let (login, _stderr, link) =
        start(cli("cli").args(["login", "--no-browser", "--scope", "openid", "--output", "json"]));
    complete(&link, "bob");
    let logged_in = json(&login.wait_with_output().unwrap());
    assert_eq!(logged_in["id_token.sub"], "bob");
    stop(child);

    // An id twice (the default client's), an endless lifetime: local errors before the server
    // starts.
    for (name, content) in [
        ("twice.toml", "[[clients]]\nid = \"testkit-client\"\nsecret = \"s\"\n"),
        ("alice.toml", "[[users]]\nusername = \"alice\"\npassword = \"p\"\n"),
        ("forever.toml", "token_lifetime = 18446744073709551615\n"),
    ] {
        let path = dir.write(name, content);
        let refused = run(bin().args(["testkit", "--port", "0", "--config", path.to_str().unwrap()]), "");
        assert_eq!(refused.status.code(), Some(1), "{name}: {}", text(&refused.stderr));
    }
    // For people: a line per client and user.
    let (mut human, _stderr) =
        spawn(bin().args(["testkit", "--port", "0", "--config", config.to_str().unwrap()]));
    let mut lines = BufReader::new(human.stdout.take().unwrap()).lines().map(Result::unwrap);
    let shown: Vec<String> = lines.by_ref().take_while(|line| !line.starts_with("login")).collect();
    stop(human);
    assert!(shown[0].starts_with("issuer         http://127.0.0.1:"), "{shown:?}");
    assert!(
        shown.iter().any(|line| line.starts_with("client") && line.contains("signer (private_key_jwt, key "))
    );
    assert!(shown.iter().any(|line| line == "user           bob (password bob-password)"), "{shown:?}");
    // A client with a secret and a key: a local error before the server starts.
    let both = dir.write("both.toml", "[[clients]]\nid = \"x\"\nsecret = \"s\"\npublic = true\n");
    let refused = run(bin().args(["testkit", "--port", "0", "--config", both.to_str().unwrap()]), "");
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("exactly one of"), "{}", text(&refused.stderr));
    assert!(Path::new(&dir.0).exists());
}
