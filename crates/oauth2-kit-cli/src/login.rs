//! `login`: the authorization code flow of a native app (RFC 8252). The login page opens in the
//! user's browser; the server sends the browser back to a listener of this process on
//! 127.0.0.1 (a free port unless `--port` says), whose one callback is checked (`state`, `iss`)
//! and traded for tokens (PKCE `S256`; the ID token validated, when the scope asks for one).

use std::io::IsTerminal as _;
use std::net::Ipv4Addr;
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use oauth2_kit::grant::authorization_code::Callback;
use oauth2_kit::{Scope, TokenResponse};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::cli::LoginArgs;
use crate::commands::{client, token_fields};
use crate::failure::{Failure, Kind};
use crate::output::Printer;

/// How long the browser's connection may take to be answered once the login has ended.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A request to the callback path: its query, and where to send the page the browser shows.
struct Arrival {
    query: String,
    page: oneshot::Sender<Page>,
}

/// What the browser is shown: plain text (nothing the server sent is echoed in it).
type Page = (StatusCode, &'static str);

const LOGGED_IN: Page =
    (StatusCode::OK, "You are logged in: close this window and go back to the terminal.\n");
const FAILED: Page = (StatusCode::BAD_REQUEST, "The login failed: the terminal says why.\n");
const NOT_THIS_LOGIN: Page =
    (StatusCode::BAD_REQUEST, "This is not the login the terminal is waiting for: start it again.\n");
const ENDED: Page = (StatusCode::GONE, "The login has ended.\n");

/// `login`.
pub(crate) async fn login(args: &LoginArgs, printer: Printer) -> Result<(), Failure> {
    let scope = match &args.scope {
        Some(text) => Some(text.parse::<Scope>().map_err(|e| Failure::local(format!("--scope: {e}")))?),
        None => None,
    };
    // A path the listener is routed on as the browser will ask for it: no character a URL
    // would encode, no `.` or `..` segment it would resolve away.
    let path_characters = |c: char| c.is_ascii_alphanumeric() || "-._~/".contains(c);
    let segments_kept = args.callback_path == "/"
        || args.callback_path.split('/').skip(1).all(|segment| !matches!(segment, "" | "." | ".."));
    if !args.callback_path.starts_with('/')
        || !args.callback_path.chars().all(path_characters)
        || !segments_kept
    {
        return Err(Failure::local(
            "--callback-path is a path of letters, digits and - . _ ~ / that starts with /, without empty, . or .. segments",
        ));
    }
    // RFC 8252 §7.3 and §8.3: the loopback IP literal, not `localhost`; any port.
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, args.port)).await.map_err(|e| {
        Failure::local(format!("cannot listen on 127.0.0.1:{}: {e} (try another --port)", args.port))
    })?;
    let port = listener
        .local_addr()
        .map_err(|e| Failure::local(format!("the listener has no address: {e}")))?
        .port();
    let redirect_uri: url::Url = format!("http://127.0.0.1:{port}{}", args.callback_path)
        .parse()
        .map_err(|e| Failure::local(format!("--callback-path: {e}")))?;

    let client = client(&args.server).await?;
    let openid = scope.as_ref().is_some_and(|scope| scope.contains("openid"));
    // Said before the user logs in, not after: an ID token is checked with the issuer's keys.
    let server = client.server();
    if openid && (server.issuer_identifier().is_none() || !server.has(oauth2_kit::EndpointKind::Jwks)) {
        return Err(Failure::local(
            "scope openid asks for an ID token, which is checked with the issuer's keys: give --issuer (discovery finds them)",
        ));
    }
    if server.issuer_identifier().is_none() {
        say!(
            "warning: the issuer is not known (no --issuer): the callback's iss cannot be checked, so a mix-up of servers (RFC 9207) would go unnoticed"
        );
    }
    let provider = client.authorization_code(redirect_uri)?.build()?;
    let mut link = provider.login_link();
    if let Some(scope) = scope {
        link = link.scope(scope);
    }
    if openid {
        link = link.nonce()?;
    }
    let (url, pending) = link.build()?.into_parts();

    let (arrivals, mut arrived) = mpsc::channel::<Arrival>(4);
    let app = Router::new()
        .route(&args.callback_path, get(callback))
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not found.\n") })
        .with_state(arrivals);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    if args.no_browser {
        say!("open this link in a browser to log in:\n{url}");
    } else if let Err(error) = webbrowser::open(url.as_str()) {
        say!("cannot open a browser ({error}); open this link to log in:\n{url}");
    } else {
        say!("the login page is open in your browser; if it is not, open this link:\n{url}");
    }
    let left = args.timeout;
    say!("waiting for the login to come back to 127.0.0.1:{port} (at most {}:{:02})", left / 60, left % 60);

    let outcome = tokio::time::timeout(Duration::from_secs(args.timeout), async {
        while let Some(arrival) = arrived.recv().await {
            let Ok(callback) = Callback::from_query(&arrival.query) else {
                let _ = arrival.page.send(NOT_THIS_LOGIN);
                continue;
            };
            // A callback without this login's state is someone else's (another login, another
            // program on this machine): ignored, the real one may still come.
            if !callback.state().is_some_and(|state| pending.state().verify(state)) {
                say!("ignored a request to the callback that is not this login's (its state differs)");
                let _ = arrival.page.send(NOT_THIS_LOGIN);
                continue;
            }
            let result = provider.complete_login(&pending, &callback).await;
            let _ = arrival.page.send(if result.is_ok() { LOGGED_IN } else { FAILED });
            return Some(result);
        }
        None
    })
    .await;
    let _ = stop.send(());
    // The browser gets its page before the listener closes (bounded: a browser that keeps its
    // connection open does not hold the command).
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, server).await;

    let token: TokenResponse = match outcome {
        Err(_) => {
            return Err(Failure::new(
                Kind::Local,
                format!(
                    "no login came back within {}:{:02} (--timeout gives more time)",
                    left / 60,
                    left % 60
                ),
            ));
        }
        Ok(None) => return Err(Failure::local("the callback listener stopped")),
        Ok(Some(result)) => result?,
    };
    if std::io::stderr().is_terminal() {
        say!("logged in");
    }
    let mut fields = token_fields(&token, printer);
    if let Some(claims) = token.id_token_claims() {
        fields.insert("id_token.sub".into(), Value::String(claims.sub.clone()));
        fields.insert("id_token.iss".into(), Value::String(claims.iss.clone()));
    }
    printer.print(fields, Some(token.access_token().expose_secret()));
    Ok(())
}

/// The callback path: hands the query to the login and answers with the page it sends back.
async fn callback(State(arrivals): State<mpsc::Sender<Arrival>>, RawQuery(query): RawQuery) -> Page {
    let (page, shown) = oneshot::channel();
    if arrivals.send(Arrival { query: query.unwrap_or_default(), page }).await.is_err() {
        return ENDED;
    }
    shown.await.unwrap_or(ENDED)
}
