//! The status page in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, which .ci/run installs) driven over the W3C WebDriver protocol
//! loads `/` from an admin listener over two carriers, shows both bound, shows one
//! stopped once it is stopped through the admin API, and running again after its start
//! button is clicked. Waits are on the DOM (a MutationObserver in the page), never a
//! sleep. Saves a screenshot to $SMSGATE_SCREENSHOT when set (docs/img/status-page.png
//! is made so).
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine;
use common::admin::{all_bound, AdminWorld, FULL};
use http_body_util::{BodyExt, Full};
use hyper::Method;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "chromedriver";

/// Kills chromedriver (and with it the browser) however the test ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A WebDriver session over plain HTTP to chromedriver on loopback.
struct Session {
    base: String,
    id: String,
    http: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<bytes::Bytes>,
    >,
}

async fn call(
    http: &hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<bytes::Bytes>,
    >,
    method: Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let request = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(Full::new(bytes::Bytes::from(bytes)))
        .unwrap();
    let response = http.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    let value: Value = serde_json::from_slice(&body.to_bytes()).map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {value}"));
    }
    Ok(value["value"].clone())
}

impl Session {
    async fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.id);
        call(&self.http, method, &url, body)
            .await
            .unwrap_or_else(|e| panic!("webdriver {path}: {e}"))
    }

    /// Resolves once `condition` (a JS expression) is true in the page, re-checked on
    /// every change of the DOM.
    async fn wait_for(&self, what: &str, condition: &str) {
        let script = format!(
            "const done = arguments[arguments.length - 1];
             const ok = () => {{ try {{ return !!({condition}); }} catch (_) {{ return false; }} }};
             if (ok()) {{ done(true); return; }}
             const o = new MutationObserver(() => {{ if (ok()) {{ o.disconnect(); done(true); }} }});
             o.observe(document.documentElement, {{ subtree: true, childList: true, attributes: true, characterData: true }});"
        );
        let out = common::within(
            what,
            self.cmd(
                Method::POST,
                "/execute/async",
                Some(json!({"script": script, "args": []})),
            ),
        )
        .await;
        assert_eq!(out, json!(true), "{what}");
    }

    async fn find(&self, css: &str) -> String {
        let el = self
            .cmd(
                Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        el.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {el}"))
            .to_owned()
    }
}

#[actix_rt::test]
async fn the_status_page_shows_a_carrier_stopped_and_started() {
    assert!(
        std::path::Path::new(CHROMIUM).exists(),
        "the browser test needs Debian's chromium and chromium-driver \
         (apt-get install -y chromium chromium-driver; .ci/run installs them)"
    );
    let w = AdminWorld::start(None).await;
    w.until("both bound", |s| all_bound(s, "a") && all_bound(s, "b"))
        .await;
    // A few messages, for the page's last outcomes.
    for n in 0..3 {
        let id =
            w.gw.submit(smsgate::outbox::actor::Submit::new(
                common::to(n),
                "ページの確認",
                smsgate::store::Class::Otp,
            ))
            .await
            .unwrap()
            .id;
        common::final_status(&w.gw, id).await;
    }

    let port = common::closed_port();
    let profile = tempfile::tempdir().unwrap();
    let _driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    // chromedriver answers /status once it listens: a bounded retry on that.
    common::within("chromedriver to listen", async {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            tick.tick().await;
            if let Ok(v) = call(&http, Method::GET, &format!("{base}/status"), None).await {
                if v["ready"] == json!(true) {
                    return;
                }
            }
        }
    })
    .await;
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1100,900",
        &format!("--user-data-dir={}", profile.path().display()),
    ];
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
    }}});
    let created = call(&http, Method::POST, &format!("{base}/session"), Some(caps))
        .await
        .expect("a browser session");
    let session = Session {
        base,
        id: created["sessionId"].as_str().unwrap().to_owned(),
        http,
    };
    session
        .cmd(
            Method::POST,
            "/timeouts",
            Some(json!({"script": common::GUARD.as_millis() as u64})),
        )
        .await;
    let url = format!("{}/?token={FULL}", w.url());
    session
        .cmd(Method::POST, "/url", Some(json!({"url": url})))
        .await;

    // Both carriers drawn, every bind bound; the token left the address bar.
    session
        .wait_for(
            "both carriers bound on the page",
            "document.querySelectorAll('#carrier-a tr[data-state=bound]').length === 2 && \
             document.querySelectorAll('#carrier-b tr[data-state=bound]').length === 1 && \
             document.querySelector('#carrier-a').dataset.adminState === 'running'",
        )
        .await;
    let href = session.cmd(Method::GET, "/url", None).await;
    assert!(!href.as_str().unwrap().contains("token"), "{href}");
    session
        .wait_for(
            "the last outcomes listed",
            "document.querySelectorAll('#recent tbody tr[data-state=delivered]').length === 3",
        )
        .await;

    // Stopped through the API: the page shows it at its next refresh.
    let answer = w.ask(FULL, Method::POST, "/carriers/a/stop").await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    session
        .wait_for(
            "carrier a stopped on the page",
            "document.querySelector('#carrier-a').dataset.adminState === 'stopped' && \
             document.querySelectorAll('#carrier-a tr[data-state=down]').length === 2 && \
             document.querySelectorAll('#carrier-b tr[data-state=bound]').length === 1",
        )
        .await;

    // Started again with the page's own button.
    let button = session.find("#carrier-a button[data-action=start]").await;
    session
        .cmd(
            Method::POST,
            &format!("/element/{button}/click"),
            Some(json!({})),
        )
        .await;
    session
        .wait_for(
            "carrier a running and bound again on the page",
            "document.querySelector('#carrier-a').dataset.adminState === 'running' && \
             document.querySelectorAll('#carrier-a tr[data-state=bound]').length === 2",
        )
        .await;
    let s = w.snapshot().await;
    assert!(all_bound(&s, "a"), "{s:#?}");

    if let Some(path) = std::env::var_os("SMSGATE_SCREENSHOT") {
        let png = session.cmd(Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(&path, bytes).unwrap();
    }
    let _ = call(
        &session.http,
        Method::DELETE,
        &format!("{}/session/{}", session.base, session.id),
        None,
    )
    .await;
    w.stop().await;
}
