//! The interactive commands in a real terminal (tmux): `device`'s code and spinner, `login
//! --no-browser`'s link, secrets typed at a prompt and not echoed. Needs `tmux`, which
//! `scripts/test.sh` installs.

use std::path::PathBuf;
use std::process::Command;

use oauth2_kit_testkit::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME, TestServer,
};

use crate::login::complete;

/// A command running in a terminal of its own tmux server, ended when dropped.
struct Terminal {
    socket: String,
    script: PathBuf,
}

impl Terminal {
    /// Runs the binary with `args` and the environment `env` in a 200×50 terminal; when it ends,
    /// the terminal shows `[exit CODE]` and stays open.
    fn run(name: &str, env: &[(&str, &str)], args: &[&str]) -> Self {
        let socket = format!("oauth2-kit-cli-{name}-{}", std::process::id());
        let script = std::env::temp_dir().join(format!("{socket}.sh"));
        let quote = |text: &str| format!("'{}'", text.replace('\'', r"'\''"));
        let mut text = String::from("#!/bin/sh\n");
        for (name, value) in env {
            text.push_str(&format!("export {name}={}\n", quote(value)));
        }
        let binary = assert_cmd::cargo::cargo_bin!("oauth2-kit");
        let args: Vec<String> = args.iter().map(|arg| quote(arg)).collect();
        text.push_str(&format!(
            "{} {}\necho \"[exit $?]\"\nread -r _\n",
            quote(binary.to_str().unwrap()),
            args.join(" ")
        ));
        std::fs::write(&script, text).unwrap();
        let started = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "main",
                "-x",
                "200",
                "-y",
                "50",
                "sh",
            ])
            .arg(&script)
            .status()
            .expect("tmux runs (scripts/test.sh installs it)");
        assert!(started.success());
        Self { socket, script }
    }

    /// What the terminal shows (wrapped lines joined).
    fn screen(&self) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-J", "-t", "main"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Waits until the screen satisfies `wanted` (at most a minute of looks, on a busy
    /// machine), and returns it.
    fn wait_for(&self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        for _ in 0..1200 {
            let screen = self.screen();
            if wanted(&screen) {
                return screen;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the terminal never showed {what}: {}", self.screen());
    }

    /// Types `text` and Enter.
    fn type_line(&self, text: &str) {
        let sent = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "main", "-l", text])
            .status()
            .unwrap();
        assert!(sent.success());
        let enter = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "main", "Enter"])
            .status()
            .unwrap();
        assert!(enter.success());
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
        let _ = std::fs::remove_file(&self.script);
    }
}

fn env(server: &TestServer) -> Vec<(&'static str, String)> {
    vec![
        ("OAUTH2_ISSUER", server.issuer().as_str().to_owned()),
        ("OAUTH2_CLIENT_ID", DEFAULT_CLIENT_ID.to_owned()),
    ]
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(name, value)| (*name, value.as_str())).collect()
}

#[test]
fn device_shows_the_code_and_a_spinner_with_the_time_left() {
    let server =
        TestServer::builder().device_interval(Some(std::time::Duration::from_secs(1))).start().unwrap();
    let mut env = env(&server);
    env.push(("OAUTH2_CLIENT_SECRET", DEFAULT_CLIENT_SECRET.to_owned()));
    let terminal = Terminal::run("device", &borrowed(&env), &["device", "--scope", "read"]);
    let screen = terminal.wait_for("the spinner", |screen| screen.contains("waiting for approval ("));
    // "open URI and enter the code CODE (within 10:00)", then "| waiting for approval (9:59 left)"
    let code = screen.split("enter the code ").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    assert!(screen.contains("left)"), "{screen}");
    assert!(server.approve_device(&code), "{screen}");
    let screen = terminal.wait_for("the end", |screen| screen.contains("[exit "));
    assert!(screen.contains("[exit 0]") && screen.contains("approved"), "{screen}");
    assert!(screen.contains("access_token   <redacted"), "{screen}");
    assert!(!screen.contains("waiting for approval"), "the spinner's line stayed: {screen}");
}

#[test]
fn login_without_a_browser_shows_the_link_to_open() {
    let server = TestServer::start().unwrap();
    let mut env = env(&server);
    env.push(("OAUTH2_CLIENT_SECRET", DEFAULT_CLIENT_SECRET.to_owned()));
    let terminal = Terminal::run("login", &borrowed(&env), &["login", "--no-browser", "--scope", "openid"]);
    let screen = terminal.wait_for("the link", |screen| screen.contains("waiting for the login"));
    let link =
        screen.lines().find(|line| line.starts_with("http://127.0.0.1")).unwrap().trim().parse().unwrap();
    complete(&link, DEFAULT_USERNAME);
    let screen = terminal.wait_for("the end", |screen| screen.contains("[exit "));
    assert!(screen.contains("[exit 0]") && screen.contains("logged in"), "{screen}");
    assert!(screen.contains(&format!("id_token.sub   {DEFAULT_USERNAME}")), "{screen}");
}

#[test]
fn secrets_typed_at_a_prompt_are_not_echoed() {
    let server = TestServer::start().unwrap();
    let env = env(&server);
    let terminal = Terminal::run(
        "prompt",
        &borrowed(&env),
        &["token", "--grant", "password", "--username", DEFAULT_USERNAME, "--client-secret-prompt"],
    );
    terminal.wait_for("the client secret prompt", |screen| screen.contains("client secret: "));
    terminal.type_line(DEFAULT_CLIENT_SECRET);
    // The password is not in the environment: asked for too.
    terminal.wait_for("the password prompt", |screen| screen.contains("password: "));
    terminal.type_line(DEFAULT_PASSWORD);
    let screen = terminal.wait_for("the end", |screen| screen.contains("[exit "));
    assert!(screen.contains("[exit 0]") && screen.contains("access_token"), "{screen}");
    assert!(
        !screen.contains(DEFAULT_CLIENT_SECRET) && !screen.contains(DEFAULT_PASSWORD),
        "echoed: {screen}"
    );
}
