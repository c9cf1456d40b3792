//! What the connector's end-to-end tests share: the simulated SMSC in process on
//! 127.0.0.1:0, and a gateway spec whose carriers bind to it.
#![allow(dead_code)]

use secrecy::SecretString;
use smpp::session::BindMode;
use smsgate::carrier::backoff::BackoffPolicy;
use smsgate::carrier::bind::{BindSpec, Endpoint};
use smsgate::carrier::link::LinkSettings;
use smsgate::carrier::msgid::{IdForm, IdMatcher};
use smsgate::carrier::number::NumberPlan;
use smsgate::carrier::pool::PoolSettings;
use smsgate::carrier::router::{RouteKind, RouteRule, Router};
use smsgate::carrier::throttle::PacerConfig;
use smsgate::gateway::{CarrierSpec, GatewaySpec};
use smsgate::outbox::{Addressing, CarrierProfile, Settings, TextProfile};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// The simulator's test account.
pub const SYSTEM_ID: &str = "test";
/// Its password.
pub const PASSWORD: &str = "pw";

/// A carrier named `name` with `binds` transceivers to the SMSC at `addr`.
pub fn carrier(name: &str, addr: SocketAddr, binds: usize, window: usize) -> CarrierSpec {
    let link = LinkSettings {
        mode: BindMode::Transceiver,
        system_id: SYSTEM_ID.into(),
        password: SecretString::from(PASSWORD),
        system_type: String::new(),
        addr_ton: 0,
        addr_npi: 0,
        address_range: String::new(),
        window,
        response_timeout: Duration::from_secs(5),
        bind_timeout: Duration::from_secs(5),
        enquire_interval: Duration::from_secs(30),
        enquire_timeout: Duration::from_secs(10),
        unbind_timeout: Duration::from_secs(2),
    };
    let backoff = BackoffPolicy::new(Duration::from_millis(50), Duration::from_secs(1), 0.5)
        .expect("backoff");
    CarrierSpec {
        name: name.into(),
        profile: CarrierProfile::new(TextProfile::default(), Addressing::default(), 3_600_000),
        pool: PoolSettings {
            carrier: name.into(),
            tps: 100_000.0,
            burst: 10_000,
            failover_after: Duration::from_secs(60),
        },
        binds: (0..binds)
            .map(|index| {
                (
                    BindSpec {
                        carrier: name.into(),
                        index,
                        endpoint: Endpoint {
                            host: addr.ip().to_string(),
                            port: addr.port(),
                            tls: None,
                        },
                        link: link.clone(),
                        backoff,
                    },
                    PacerConfig::new(100_000.0, 10_000, window),
                )
            })
            .collect(),
        matcher: IdMatcher::fixed(IdForm::AsIs),
    }
}

/// A gateway spec over `dir` with these carriers; every Japanese number goes to the first,
/// then the others in order.
pub fn spec(dir: &Path, carriers: Vec<CarrierSpec>) -> GatewaySpec {
    let names: Vec<String> = carriers.iter().map(|c| c.name.clone()).collect();
    GatewaySpec {
        data_dir: dir.to_path_buf(),
        outbox: Settings {
            retry: BackoffPolicy::new(Duration::from_millis(50), Duration::from_secs(1), 0.0)
                .expect("retry backoff"),
            ..Settings::default()
        },
        carriers,
        router: Router::new([RouteRule {
            prefix: "81".into(),
            carriers: names,
            kind: RouteKind::Domestic,
        }])
        .expect("router"),
        plan: NumberPlan::japan(),
        unbind_deadline: Duration::from_secs(3),
    }
}

/// The simulator's test configuration: receipts at once.
pub async fn simulator(config: smsc_sim::Config) -> smsc_sim::SimHandle {
    smsc_sim::start(config).await.expect("simulator starts")
}
