//! What the admin tests share: two carriers on two simulated SMSCs (`a` serves +81 90,
//! `b` serves +81 80), the admin listener over them on 127.0.0.1:0 with a full and a
//! read-only token, and a status poll bounded by [`super::GUARD`].

use super::{carrier, spec, within};
use smsgate::admin::client::{AdminClient, Answer};
use smsgate::admin::status::Snapshot;
use smsgate::admin::{AdminServer, AdminSettings, ReloadHook};
use smsgate::api::auth::sha256_hex;
use smsgate::carrier::router::{RouteKind, RouteRule, Router};
use smsgate::config::{AdminAccess, AdminTokenConfig};
use smsgate::gateway::Gateway;
use std::path::Path;
use std::time::Duration;

/// The full token of the tests.
pub const FULL: &str = "admin-full-secret";
/// The read-only token.
pub const READ: &str = "admin-read-secret";

/// Two simulators, the gateway over them and its admin listener.
pub struct AdminWorld {
    pub sim_a: smsc_sim::SimHandle,
    pub sim_b: smsc_sim::SimHandle,
    pub gw: Gateway,
    pub admin: AdminServer,
    pub dir: tempfile::TempDir,
}

/// Settings with the two tokens and `reload`.
pub fn settings(reload: Option<ReloadHook>) -> AdminSettings {
    AdminSettings {
        tokens: smsgate::admin::auth::AdminTokens::new(&[
            AdminTokenConfig {
                name: "ops".into(),
                sha256: sha256_hex(FULL),
                access: AdminAccess::Full,
            },
            AdminTokenConfig {
                name: "view".into(),
                sha256: sha256_hex(READ),
                access: AdminAccess::Read,
            },
        ])
        .expect("tokens"),
        reload,
        metrics: None,
    }
}

/// The gateway with carriers `a` (+81 90, `binds` binds) and `b` (+81 80) over `dir`.
pub async fn gateway_ab(
    dir: &Path,
    sim_a: &smsc_sim::SimHandle,
    sim_b: &smsc_sim::SimHandle,
    binds: usize,
) -> Gateway {
    let mut spec = spec(
        dir,
        vec![
            carrier("a", sim_a.smpp_addr(), binds, 10),
            carrier("b", sim_b.smpp_addr(), 1, 10),
        ],
    );
    let rule = |prefix: &str, c: &str, kind| RouteRule {
        prefix: prefix.into(),
        carriers: vec![c.into()],
        kind,
    };
    spec.router = Router::new([
        rule("8190", "a", RouteKind::Domestic),
        rule("8180", "b", RouteKind::International),
    ])
    .expect("router");
    Gateway::start(spec).await.expect("gateway starts")
}

impl AdminWorld {
    pub async fn start(reload: Option<ReloadHook>) -> AdminWorld {
        super::trace();
        let sim_a = super::simulator(smsc_sim::Config::for_tests()).await;
        let sim_b = super::simulator(smsc_sim::Config::for_tests()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let gw = gateway_ab(dir.path(), &sim_a, &sim_b, 2).await;
        let admin = AdminServer::start(
            "127.0.0.1:0".parse().expect("address"),
            settings(reload),
            gw.clone(),
        )
        .expect("admin starts");
        AdminWorld {
            sim_a,
            sim_b,
            gw,
            admin,
            dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.admin.local_addr())
    }

    /// `method path` with `token`.
    pub async fn ask(&self, token: &str, method: hyper::Method, path: &str) -> Answer {
        AdminClient::new(&self.url(), token.to_owned().into())
            .expect("client")
            .request(method, path)
            .await
            .expect("an answer")
    }

    pub async fn snapshot(&self) -> Snapshot {
        let answer = self.ask(READ, hyper::Method::GET, "/status").await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        serde_json::from_value(answer.body).expect("a snapshot")
    }

    /// Polls `GET /status` until `pred` holds (a bounded retry on a real condition: a
    /// bind's state changes send no event).
    pub async fn until(&self, what: &str, pred: impl Fn(&Snapshot) -> bool) -> Snapshot {
        within(what, async {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            loop {
                tick.tick().await;
                let s = self.snapshot().await;
                if pred(&s) {
                    return s;
                }
            }
        })
        .await
    }

    pub async fn stop(self) {
        self.admin.stop().await;
        self.gw.shutdown().await;
        self.sim_a.shutdown().await;
        self.sim_b.shutdown().await;
    }
}

/// Carrier `name` of `s`.
pub fn carrier_of<'a>(s: &'a Snapshot, name: &str) -> &'a smsgate::admin::status::CarrierStatus {
    s.carriers
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no carrier {name} in {s:#?}"))
}

/// Whether every bind of carrier `name` is bound.
pub fn all_bound(s: &Snapshot, name: &str) -> bool {
    let c = carrier_of(s, name);
    !c.binds.is_empty() && c.binds.iter().all(|b| b.state == "bound")
}

/// Whether every bind of carrier `name` is down.
pub fn all_down(s: &Snapshot, name: &str) -> bool {
    carrier_of(s, name).binds.iter().all(|b| b.state == "down")
}
