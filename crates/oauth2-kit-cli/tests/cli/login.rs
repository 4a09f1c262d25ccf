//! `login` against the testkit: the link printed or handed to the browser, the callback to the
//! command's listener, the ways a login fails.

use std::process::{Child, Command};
use std::sync::Arc;

use oauth2_kit::http::{HttpClient, HttpResponse};
use oauth2_kit::reexports::url::Url;
use oauth2_kit_test_support::browser::Browser;
use oauth2_kit_testkit::{DEFAULT_USERNAME, TestServer};

use crate::testkit::cli;
use crate::{Stderr, json, spawn, text};

/// An HTTP client for the scripted browser (it follows no redirect itself).
pub(crate) fn http() -> Arc<dyn HttpClient> {
    Arc::new(oauth2_kit_reqwest::ReqwestClient::new().unwrap())
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// The login link the running command printed.
pub(crate) fn link(stderr: &mut Stderr) -> Url {
    stderr.line(|line| line.starts_with("http://")).parse().unwrap()
}

/// The redirect URI a login link names.
fn redirect_uri(link: &Url) -> Url {
    link.query_pairs().find(|(name, _)| name == "redirect_uri").unwrap().1.parse().unwrap()
}

/// A `login --no-browser` command started, and the link it printed.
pub(crate) fn start(command: &mut Command) -> (Child, Stderr, Url) {
    let (child, mut stderr) = spawn(command);
    let link = link(&mut stderr);
    (child, stderr, link)
}

/// `user` logs in at `link` and the browser follows the server back to the command's listener:
/// the callback URL, and the page the listener answered with.
pub(crate) fn complete(link: &Url, user: &str) -> (Url, HttpResponse) {
    runtime().block_on(async {
        let mut browser = Browser::new(http(), user);
        let callback = browser.log_in(link).await;
        let page = browser.get(&callback).await;
        (callback, page)
    })
}

#[test]
fn login_with_the_link_printed_then_the_callback_to_the_listener() {
    let server = TestServer::start().unwrap();
    let (child, _stderr, link) =
        start(cli(&server).args(["login", "--no-browser", "--scope", "openid read", "--output", "json"]));
    let redirect = redirect_uri(&link);
    assert_eq!((redirect.host_str(), redirect.path()), (Some("127.0.0.1"), "/callback"));
    assert_ne!(redirect.port(), Some(0));
    let pairs: Vec<_> = link.query_pairs().map(|(name, _)| name.into_owned()).collect();
    for name in ["state", "code_challenge", "nonce"] {
        assert!(pairs.iter().any(|pair| pair == name), "{link}");
    }

    let (callback, page) = complete(&link, DEFAULT_USERNAME);
    assert_eq!(callback.origin(), redirect.origin());
    assert_eq!(page.status(), 200);
    assert!(text(page.body()).contains("You are logged in"));

    let output = child.wait_with_output().unwrap();
    let object = json(&output);
    assert_eq!(object["id_token.sub"], DEFAULT_USERNAME);
    assert_eq!(object["id_token.iss"], server.issuer().as_str());
    assert_eq!(object["scope"], "openid read");
    for name in ["access_token", "refresh_token", "id_token"] {
        assert!(object[name].as_str().unwrap().starts_with("<redacted"), "{object}");
    }
}

#[test]
fn login_opens_the_browser_the_environment_names() {
    let server = TestServer::start().unwrap();
    // A "browser" that writes the URL it is asked to open into a file.
    let dir = std::env::temp_dir().join(format!("oauth2-kit-cli-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("browser.sh");
    let opened = dir.join("opened");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" > '{}.part'\nmv '{0}.part' '{0}'\n", opened.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();

    let (child, stderr, printed) = start(
        cli(&server)
            .env("BROWSER", &script)
            .env("PATH", std::env::var_os("PATH").unwrap())
            .args(["login", "--scope", "read", "--output", "raw"]),
    );
    assert!(stderr.seen.contains("open in your browser"), "{}", stderr.seen);
    // The browser process runs beside the command: wait for the file it writes last.
    // (At most a minute of polls, on a busy machine.)
    for _ in 0..3000 {
        if opened.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(opened.exists(), "the browser was never opened");
    let handed: Url = std::fs::read_to_string(&opened).unwrap().trim().parse().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(handed, printed);

    complete(&handed, DEFAULT_USERNAME);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr.rest());
    assert!(text(&output.stdout).trim().len() > 20);
}

#[test]
fn a_callback_of_another_login_is_ignored_and_a_refused_login_exits_3() {
    let server = TestServer::start().unwrap();
    let (child, mut stderr, link) = start(cli(&server).args(["login", "--no-browser", "--output", "json"]));
    let mut forged = redirect_uri(&link);
    forged.set_query(Some("code=stolen-code&state=not-this-login"));
    let runtime = runtime();
    let mut browser = Browser::new(http(), DEFAULT_USERNAME);
    // Another path of the listener: not found, the login goes on.
    let mut elsewhere = redirect_uri(&link);
    elsewhere.set_path("/favicon.ico");
    let (forged_page, elsewhere_page) =
        runtime.block_on(async { (browser.get(&forged).await, browser.get(&elsewhere).await) });
    assert_eq!((forged_page.status().as_u16(), elsewhere_page.status().as_u16()), (400, 404));
    assert!(text(forged_page.body()).contains("not the login"));
    stderr.line(|line| line.contains("ignored a request to the callback"));

    // The user says no: the callback carries access_denied.
    server.deny_logins();
    let (_, page) = complete(&link, DEFAULT_USERNAME);
    assert_eq!(page.status(), 400);
    let output = child.wait_with_output().unwrap();
    let said = stderr.rest();
    assert_eq!(output.status.code(), Some(3), "{said}");
    assert!(said.contains("access_denied"), "{said}");
    assert_eq!(said.lines().filter(|line| line.starts_with("error:")).count(), 1, "{said}");
}

#[test]
fn a_login_that_never_comes_back_ends_at_the_timeout() {
    let server = TestServer::start().unwrap();
    let output = cli(&server).args(["login", "--no-browser", "--timeout", "1"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("no login came back within 0:01"), "{}", text(&output.stderr));
}
