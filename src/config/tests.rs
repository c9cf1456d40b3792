//! Tests of the whole loader: the embedded default and the examples load, one named test per
//! refused key (each asserting the key path, the value and the line), environment overrides,
//! and secrets kept out of Debug prints and `config show`.

use super::*;
use crate::carrier::msgid::MessageIdForm;
use crate::carrier::number::{AddressFormat, Msisdn};
use crate::carrier::retry::StatusClass;
use crate::carrier::router::load_portability;
use secrecy::ExposeSecret;
use smpp::CommandStatus;
use std::path::Path;

/// A valid configuration with two carriers, docomo (two binds) and au, with places to add
/// keys: `top` before any table, `carrier` in `[carriers.docomo]`, `bind` in docomo's second
/// bind, `tail` after everything (new tables).
fn text(top: &str, carrier: &str, bind: &str, tail: &str) -> String {
    format!(
        r#"{top}
[carriers.docomo]
{carrier}

[[carriers.docomo.binds]]
host = "smpp1.docomo.example"
port = 2775
system_id = "acme"
password = "pw1"

[[carriers.docomo.binds]]
host = "smpp2.docomo.example"
port = 2775
system_id = "acme"
password = "pw2"
{bind}

[carriers.au]
binds = [{{ host = "smpp.au.example", port = 3700, system_id = "acme", password = "pw" }}]

[[routes]]
prefix = "8190"
carriers = ["docomo", "au"]
{tail}
"#
    )
}

fn number(digits: &str) -> Msisdn {
    Msisdn::parse_e164(digits).expect("a number")
}

fn load(text: &str) -> Result<Config, ConfigErrors> {
    load_env(text, &[])
}

fn load_env(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    Config::from_toml(
        "test.toml",
        text,
        env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
    )
}

/// The error lines of a configuration that must be refused.
fn refused(text: &str) -> Vec<String> {
    refused_env(text, &[])
}

fn refused_env(text: &str, env: &[(&str, &str)]) -> Vec<String> {
    match load_env(text, env) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

/// Asserts that one error line contains `expected`.
fn assert_has(lines: &[String], expected: &str) {
    assert!(
        lines.iter().any(|l| l.contains(expected)),
        "no error contains {expected:?}; errors:\n{}",
        lines.join("\n")
    );
}

/// The 1-based line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} not in the text"))
}

fn bind_key(key: &str, value: &str) -> String {
    text("", "", &format!("{key} = {value}"), "")
}

fn carrier_key(key: &str, value: &str) -> String {
    text("", &format!("{key} = {value}"), "", "")
}

fn top_key(key: &str, value: &str) -> String {
    text(&format!("{key} = {value}"), "", "", "")
}

fn section(table: &str, body: &str) -> String {
    text("", "", "", &format!("[{table}]\n{body}"))
}

// ---------------------------------------------------------------- what loads

#[test]
fn the_base_text_of_these_tests_is_valid() {
    let c = load(&text("", "", "", "")).expect("valid");
    assert_eq!(c.carriers.len(), 2);
    assert_eq!(c.carriers["docomo"].binds.len(), 2);
}

#[cfg(feature = "sim")]
#[test]
fn embedded_default_parses_and_validates() {
    let c = Config::embedded_default().expect("the embedded default is valid");
    assert!(c.simulator.enabled);
    assert_eq!(c.data_dir, Path::new("data"));
    let sim = c.simulator.sim_config().expect("simulator config");
    assert_eq!(sim.smpp_addr, c.simulator.smpp_address);
    // The default carrier binds to the simulator with an account it knows.
    let carrier = c.carriers.get("sim").expect("carrier sim");
    for bind in &carrier.binds {
        assert_eq!(
            (bind.host.as_str(), bind.port),
            ("127.0.0.1", c.simulator.smpp_address.port())
        );
        let account = sim
            .accounts
            .iter()
            .find(|a| a.system_id == bind.system_id)
            .expect("an account of the simulator");
        assert_eq!(
            bind.password().map(|p| p.expose_secret()),
            Some(account.password.as_str())
        );
    }
    // Every Japanese mobile prefix is routed.
    for prefix in ["8170", "8180", "8190"] {
        assert!(
            c.routes.iter().any(|r| r.prefix == prefix),
            "{prefix} not routed"
        );
    }
    assert_eq!(c.metrics.address.port(), 9775);
}

#[cfg(feature = "sim")]
#[test]
fn the_embedded_default_takes_overrides_from_the_environment() {
    let c = Config::load(
        ConfigSource::Embedded,
        [("SMSGATE_DATA_DIR".to_owned(), "/var/lib/smsgate".to_owned())],
    )
    .expect("valid");
    assert_eq!(c.data_dir, Path::new("/var/lib/smsgate"));
}

#[test]
fn defaults_fill_what_the_file_leaves_out() {
    let c = load(&text("", "", "", "")).expect("valid");
    assert_eq!(c.data_dir, Path::new("data"));
    assert!(!c.simulator.enabled);
    assert_eq!(c.outbox.idempotency_window, Duration::from_secs(86_400));
    assert_eq!(
        (c.outbox.retention, c.outbox.events_retention),
        (
            Duration::from_secs(7 * 86_400),
            Duration::from_secs(7 * 86_400)
        )
    );
    let d = &c.carriers["docomo"];
    let b = &d.binds[0];
    assert_eq!(
        (b.count, b.window, b.shape),
        (1, 10, BindShape::Transceiver)
    );
    assert_eq!(d.enquire_link.interval, Duration::from_secs(30));
    assert_eq!(d.message_id, MessageIdForm::Auto);
    assert_eq!(d.long_message, crate::store::LongMessage::Udh8);
    assert_eq!(d.registered_delivery.value(), 1);
    assert_eq!(d.destination, AddressFormat::default_destination());
    assert_eq!(
        d.retry.classify(CommandStatus::ESME_RTHROTTLED),
        StatusClass::Transient
    );
    assert!(d.japan.is_none());
}

/// The environment and files an example needs, for the test that loads it.
fn example_env(dir: &Path) -> Vec<(String, String)> {
    let secret = dir.join("smpp-password");
    std::fs::write(&secret, "s3cret\n").expect("write");
    let secret = secret.display().to_string();
    let pem = rcgen::generate_simple_self_signed(vec!["smpp.aggregator.example".to_owned()])
        .expect("certificate");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pem.cert.pem()).expect("write");
    let client_cert = dir.join("client.pem");
    std::fs::write(&client_cert, pem.cert.pem()).expect("write");
    let client_key = dir.join("client.key");
    std::fs::write(&client_key, pem.key_pair.serialize_pem()).expect("write");
    let tls = "SMSGATE_CARRIERS__GLOBAL__BINDS__0__TLS__";
    [
        ("DOCOMO_SMPP_PASSWORD".to_owned(), "d0como".to_owned()),
        (
            "SMSGATE_CARRIERS__AU__BINDS__0__PASSWORD_FILE".to_owned(),
            secret.clone(),
        ),
        (
            "SMSGATE_CARRIERS__GLOBAL__BINDS__0__PASSWORD_FILE".to_owned(),
            secret,
        ),
        (format!("{tls}CA_FILE"), ca.display().to_string()),
        (
            format!("{tls}CLIENT_CERT"),
            client_cert.display().to_string(),
        ),
        (format!("{tls}CLIENT_KEY"), client_key.display().to_string()),
    ]
    .into_iter()
    .collect()
}

/// The part of [`example_env`] an example uses (an override for a carrier the example does
/// not have would add one).
fn env_for(example: &str, env: &[(String, String)]) -> Vec<(String, String)> {
    let other = if example == "tls-carrier" {
        "__AU__"
    } else {
        "__GLOBAL__"
    };
    env.iter()
        .filter(|(k, _)| !k.contains(other))
        .cloned()
        .collect()
}

#[test]
fn example_with_two_japanese_carriers_validates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = example_env(dir.path());
    let c = Config::load(
        ConfigSource::File("config/examples/japan-two-carriers.toml".into()),
        env_for("japan-two-carriers", &env),
    )
    .expect("valid");
    let docomo = &c.carriers["docomo"];
    assert_eq!(docomo.binds[0].shape, BindShape::Pair);
    assert_eq!(docomo.connections(), 4);
    assert_eq!(
        docomo.binds[0].password().map(|p| p.expose_secret()),
        Some("d0como")
    );
    let au = &c.carriers["au"];
    assert_eq!(
        au.binds[0].password().map(|p| p.expose_secret()),
        Some("s3cret")
    );
    assert_eq!(
        au.japan.as_ref().map(|j| j.sjis_only),
        Some(crate::outbox::ShiftJisRule::All)
    );
    assert_eq!(
        au.retry.classify(CommandStatus(0x0401)),
        StatusClass::Transient
    );
    assert_eq!(
        au.retry.classify(CommandStatus::ESME_RSYSERR),
        StatusClass::Permanent
    );
    let table = c
        .portability_table()
        .expect("portability table")
        .expect("configured");
    assert_eq!(table.carrier_of(&number("819011112222")), Some("au"));
    // The router it builds serves the example's routes, the table first.
    let mut router = c.router().expect("valid rules");
    router.set_portability(table);
    let route = router.route(&number("819011112222")).expect("routed");
    assert_eq!(route.carriers[0], "au");
    assert_eq!(route.kind, RouteKind::Domestic);
}

#[test]
fn example_with_a_tls_carrier_validates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = Config::load(
        ConfigSource::File("config/examples/tls-carrier.toml".into()),
        env_for("tls-carrier", &example_env(dir.path())),
    )
    .expect("valid");
    let bind = &c.carriers["global"].binds[0];
    let tls = bind.tls.as_ref().expect("tls");
    assert!(tls.client_config().is_ok());
    assert!(tls.server_name(&bind.host).is_ok());
    assert_eq!(
        c.routes[0].japan.as_ref().map(|j| j.route_kind),
        Some(RouteKind::International)
    );
}

#[test]
fn the_examples_portability_csv_parses() {
    let text = std::fs::read_to_string("config/examples/portability.csv").expect("read");
    let table = load_portability(text.as_bytes()).expect("valid");
    assert_eq!(table.len(), 4);
    assert_eq!(table.carrier_of(&number("817077778888")), Some("docomo"));
    assert!(table
        .unconfigured(|n| matches!(n, "docomo" | "au"))
        .is_empty());
}

#[test]
fn show_output_loads_back_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = example_env(dir.path());
    for example in ["japan-two-carriers", "tls-carrier"] {
        let used = env_for(example, &env);
        let path = format!("config/examples/{example}.toml");
        let c = Config::load(ConfigSource::File(path.into()), used.clone()).expect("valid");
        let shown = c.to_redacted_toml().expect("serializes");
        let again = Config::from_toml("shown", &shown, used).expect("show output is valid");
        assert_eq!(again.to_redacted_toml().expect("serializes"), shown);
    }
}

// ---------------------------------------------------------------- secrets

#[test]
fn debug_print_never_shows_the_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pw");
    std::fs::write(&file, "filepw77\n").expect("write");
    let t = text(
        "",
        "",
        "",
        &format!(
            r#"
[carriers.envd]
binds = [{{ host = "h", port = 1, system_id = "a", password_env = "PW_ENV" }}]
[carriers.filed]
binds = [{{ host = "h", port = 1, system_id = "a", password_file = "{}" }}]
"#,
            file.display()
        ),
    );
    let t = t.replace("password = \"pw1\"", "password = \"inline42\"");
    let c = load_env(&t, &[("PW_ENV", "envpw99")]).expect("valid");
    let debug = format!("{c:?}");
    for secret in ["inline42", "envpw99", "filepw77"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    assert_eq!(
        c.carriers["filed"].binds[0]
            .password()
            .map(|p| p.expose_secret()),
        Some("filepw77")
    );
    assert_eq!(
        c.carriers["envd"].binds[0]
            .password()
            .map(|p| p.expose_secret()),
        Some("envpw99")
    );
    let shown = c.to_redacted_toml().expect("serializes");
    for secret in ["inline42", "envpw99", "filepw77"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("password = \"<redacted>\""), "{shown}");
    assert!(shown.contains("password_env = \"PW_ENV\""), "{shown}");
}

#[test]
fn missing_password_is_refused() {
    let t = text("", "", "", "").replace("password = \"pw2\"", "");
    assert_has(
        &refused(&t),
        "carriers.docomo.binds[1]: a password is needed: set password_env, password_file or password",
    );
}

#[test]
fn two_password_sources_are_refused() {
    assert_has(
        &refused(&bind_key("password_env", "\"X\"")),
        "carriers.docomo.binds[1]: password and password_env are set: set only one",
    );
}

#[test]
fn missing_password_env_is_refused() {
    let t = text("", "", "", "").replace("password = \"pw2\"", "password_env = \"DOCOMO_PW\"");
    assert_has(
        &refused(&t),
        "carriers.docomo.binds[1].password_env: the variable DOCOMO_PW is not set",
    );
}

#[test]
fn password_env_with_the_override_prefix_is_refused() {
    let t = text("", "", "", "").replace("password = \"pw2\"", "password_env = \"SMSGATE_PW\"");
    assert_has(
        &refused_env(&t, &[]),
        "carriers.docomo.binds[1].password_env: \"SMSGATE_PW\" is not allowed",
    );
}

#[test]
fn unreadable_password_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope");
    let t = text("", "", "", "").replace(
        "password = \"pw2\"",
        &format!("password_file = \"{}\"", missing.display()),
    );
    assert_has(
        &refused(&t),
        &format!(
            "carriers.docomo.binds[1].password_file: cannot read {}",
            missing.display()
        ),
    );
}

#[test]
fn long_password_is_refused_without_showing_it() {
    let t = text("", "", "", "").replace("password = \"pw2\"", "password_env = \"PW\"");
    let lines = refused_env(&t, &[("PW", "longsecret9")]);
    assert_has(
        &lines,
        "carriers.docomo.binds[1].password_env: the password has 11 characters: at most 8",
    );
    assert!(!lines.join("\n").contains("longsecret9"));
}

#[test]
fn password_of_the_wrong_type_is_refused_without_showing_it() {
    let t = text("", "", "", "").replace("password = \"pw2\"", "password = 12345678");
    let lines = refused(&t);
    assert_has(
        &lines,
        "carriers.docomo.binds[1].password: a password must be a string",
    );
    assert!(!lines.join("\n").contains("12345678"));
}

// ---------------------------------------------------------------- binds

#[test]
fn window_zero_is_refused_naming_the_key() {
    let t = bind_key("window", "0");
    let lines = refused(&t);
    let line = line_of(&t, "window = 0");
    assert_eq!(
        lines,
        [format!(
            "test.toml:{line}: carriers.docomo.binds[1].window: 0 is not allowed (1..=1000)"
        )]
    );
}

#[test]
fn window_above_1000_is_refused() {
    assert_has(
        &refused(&bind_key("window", "1001")),
        "carriers.docomo.binds[1].window: 1001 is not allowed (1..=1000)",
    );
}

#[test]
fn empty_host_is_refused() {
    let t = text("", "", "", "").replace("\"smpp2.docomo.example\"", "\"\"");
    assert_has(
        &refused(&t),
        "carriers.docomo.binds[1].host: \"\" is not allowed (a host name or IP address)",
    );
}

#[test]
fn port_zero_is_refused() {
    let t = text("", "", "", "").replace(
        "host = \"smpp2.docomo.example\"\nport = 2775",
        "host = \"smpp2.docomo.example\"\nport = 0",
    );
    assert_has(
        &refused(&t),
        "carriers.docomo.binds[1].port: 0 is not allowed (1..=65535)",
    );
}

#[test]
fn port_above_65535_is_refused() {
    let t = text("", "", "", "").replace(
        "host = \"smpp2.docomo.example\"\nport = 2775",
        "host = \"smpp2.docomo.example\"\nport = 70000",
    );
    assert_has(
        &refused(&t),
        "carriers.docomo.binds[1].port: invalid value: integer `70000`",
    );
}

#[test]
fn long_system_id_is_refused() {
    let t = text("", "", "", "").replace(
        "system_id = \"acme\"\npassword = \"pw2\"",
        "system_id = \"a-very-long-account\"\npassword = \"pw2\"",
    );
    assert_has(
        &refused(&t),
        "carriers.docomo.binds[1].system_id: \"a-very-long-account\" is not allowed (1 to 15 characters",
    );
}

#[test]
fn empty_system_id_is_refused() {
    let t = text("", "", "", "").replace(
        "system_id = \"acme\"\npassword = \"pw2\"",
        "system_id = \"\"\npassword = \"pw2\"",
    );
    assert_has(
        &refused(&t),
        "carriers.docomo.binds[1].system_id: \"\" is not allowed (1 to 15 characters",
    );
}

#[test]
fn long_system_type_is_refused() {
    assert_has(
        &refused(&bind_key("system_type", "\"thirteen-char\"")),
        "carriers.docomo.binds[1].system_type: \"thirteen-char\" is not allowed (at most 12 characters",
    );
}

#[test]
fn unknown_bind_mode_is_refused() {
    assert_has(
        &refused(&bind_key("mode", "\"transmitter\"")),
        "carriers.docomo.binds[1].mode: unknown variant `transmitter`, expected `transceiver` or `pair`",
    );
}

#[test]
fn count_zero_is_refused() {
    assert_has(
        &refused(&bind_key("count", "0")),
        "carriers.docomo.binds[1].count: 0 is not allowed (1..=64)",
    );
}

#[test]
fn bind_tps_zero_is_refused() {
    assert_has(
        &refused(&bind_key("tps", "0")),
        "carriers.docomo.binds[1].tps: 0 is not allowed (1..=100000)",
    );
}

/// A TLS table for docomo's second bind, its files in `dir`.
fn tls_text(dir: &Path, body: &str) -> String {
    let t = text("", "", "", "");
    let at = "password = \"pw2\"";
    t.replace(
        at,
        &format!(
            "{at}\ntls = {{ {} }}",
            body.replace("DIR", &dir.display().to_string())
        ),
    )
}

fn write_cert(dir: &Path, host: &str) {
    let pem = rcgen::generate_simple_self_signed(vec![host.to_owned()]).expect("certificate");
    std::fs::write(dir.join("ca.pem"), pem.cert.pem()).expect("write");
    std::fs::write(dir.join("key.pem"), pem.key_pair.serialize_pem()).expect("write");
}

#[test]
fn tls_with_a_readable_ca_is_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_cert(dir.path(), "smpp2.docomo.example");
    let c = load(&tls_text(
        dir.path(),
        "ca_file = \"DIR/ca.pem\", client_cert = \"DIR/ca.pem\", client_key = \"DIR/key.pem\"",
    ))
    .expect("valid");
    assert!(c.carriers["docomo"].binds[1].tls.is_some());
}

#[test]
fn tls_missing_ca_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_has(
        &refused(&tls_text(dir.path(), "ca_file = \"DIR/none.pem\"")),
        &format!(
            "carriers.docomo.binds[1].tls.ca_file: cannot read {}/none.pem",
            dir.path().display()
        ),
    );
}

#[test]
fn tls_ca_file_without_a_certificate_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ca.pem"), "not a pem\n").expect("write");
    assert_has(
        &refused(&tls_text(dir.path(), "ca_file = \"DIR/ca.pem\"")),
        "carriers.docomo.binds[1].tls.ca_file:",
    );
    assert_has(
        &refused(&tls_text(dir.path(), "ca_file = \"DIR/ca.pem\"")),
        "holds no PEM certificate",
    );
}

#[test]
fn tls_client_cert_without_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_cert(dir.path(), "smpp2.docomo.example");
    assert_has(
        &refused(&tls_text(
            dir.path(),
            "ca_file = \"DIR/ca.pem\", client_cert = \"DIR/ca.pem\"",
        )),
        "carriers.docomo.binds[1].tls.client_key: client_cert and client_key go together",
    );
}

#[test]
fn tls_client_key_file_without_a_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_cert(dir.path(), "smpp2.docomo.example");
    assert_has(
        &refused(&tls_text(
            dir.path(),
            "ca_file = \"DIR/ca.pem\", client_cert = \"DIR/ca.pem\", client_key = \"DIR/ca.pem\"",
        )),
        "carriers.docomo.binds[1].tls.client_key: ",
    );
}

#[test]
fn tls_bad_server_name_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_cert(dir.path(), "smpp2.docomo.example");
    assert_has(
        &refused(&tls_text(
            dir.path(),
            "ca_file = \"DIR/ca.pem\", server_name = \"not a name\"",
        )),
        "carriers.docomo.binds[1].tls.server_name: \"not a name\" is not a DNS name or an IP address",
    );
}

#[test]
fn tls_insecure_switch_does_not_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_cert(dir.path(), "smpp2.docomo.example");
    assert_has(
        &refused(&tls_text(
            dir.path(),
            "ca_file = \"DIR/ca.pem\", insecure = true",
        )),
        "carriers.docomo.binds[1].tls.insecure: unknown field `insecure`",
    );
}

// ---------------------------------------------------------------- carriers

#[test]
fn no_carrier_is_refused() {
    assert_has(
        &refused("[[routes]]\nprefix = \"81\"\ncarriers = []\n"),
        "carriers: at least one carrier is needed",
    );
}

#[test]
fn carrier_name_with_upper_case_is_refused() {
    let t = text("", "", "", "")
        .replace("[carriers.au]", "[carriers.AU]")
        .replace("[\"docomo\", \"au\"]", "[\"docomo\", \"AU\"]");
    assert_has(
        &refused(&t),
        "carriers.AU: the name \"AU\" is not allowed (1 to 32 of a-z, 0-9, - and _)",
    );
}

#[test]
fn carrier_without_binds_is_refused() {
    let t = text("", "", "", "").replace(
        "binds = [{ host = \"smpp.au.example\", port = 3700, system_id = \"acme\", password = \"pw\" }]",
        "binds = []",
    );
    assert_has(
        &refused(&t),
        "carriers.au.binds: at least one bind is needed",
    );
}

#[test]
fn carrier_tps_zero_is_refused() {
    assert_has(
        &refused(&carrier_key("tps", "0")),
        "carriers.docomo.tps: 0 is not allowed (1..=100000)",
    );
}

#[test]
fn enquire_link_interval_zero_is_refused() {
    assert_has(
        &refused(&carrier_key("enquire_link", "{ interval = \"0s\" }")),
        "carriers.docomo.enquire_link.interval: 0s is not allowed (1s..=1h)",
    );
}

#[test]
fn enquire_link_timeout_too_long_is_refused() {
    assert_has(
        &refused(&carrier_key("enquire_link", "{ timeout = \"11m\" }")),
        "carriers.docomo.enquire_link.timeout: 11m is not allowed (100ms..=10m)",
    );
}

#[test]
fn response_timeout_too_short_is_refused() {
    assert_has(
        &refused(&carrier_key("response_timeout", "\"50ms\"")),
        "carriers.docomo.response_timeout: 50ms is not allowed (100ms..=10m)",
    );
}

#[test]
fn reconnect_initial_zero_is_refused() {
    assert_has(
        &refused(&carrier_key("reconnect", "{ initial = \"0s\" }")),
        "carriers.docomo.reconnect.initial: 0s is not allowed (1ms..=1h)",
    );
}

#[test]
fn reconnect_max_below_initial_is_refused() {
    assert_has(
        &refused(&carrier_key(
            "reconnect",
            "{ initial = \"10s\", max = \"5s\" }",
        )),
        "carriers.docomo.reconnect.max: 5s is shorter than initial (10s)",
    );
}

#[test]
fn reconnect_max_above_a_day_is_refused() {
    assert_has(
        &refused(&carrier_key("reconnect", "{ max = \"2d\" }")),
        "carriers.docomo.reconnect.max: 2d is not allowed (1s..=1d)",
    );
}

#[test]
fn jitter_above_one_is_refused() {
    assert_has(
        &refused(&carrier_key("reconnect", "{ jitter = 1.5 }")),
        "carriers.docomo.reconnect.jitter: 1.5 is not allowed (0..=1)",
    );
}

#[test]
fn jitter_nan_is_refused() {
    assert_has(
        &refused(&carrier_key("reconnect", "{ jitter = nan }")),
        "carriers.docomo.reconnect.jitter: NaN is not allowed (0..=1)",
    );
}

#[test]
fn ton_seven_is_refused() {
    assert_has(
        &refused(&carrier_key(
            "source",
            "{ ton = 7, npi = 1, format = \"national\" }",
        )),
        "carriers.docomo.source.ton: 7 is not allowed (0..=6, SMPP 5.2.5 Table 5-3)",
    );
}

#[test]
fn npi_two_is_refused() {
    assert_has(
        &refused(&carrier_key(
            "destination",
            "{ ton = 1, npi = 2, format = \"e164\" }",
        )),
        "carriers.docomo.destination.npi: 2 is not allowed (one of 0, 1, 3, 4, 6, 8, 9, 10, 14, 18",
    );
}

#[test]
fn national_format_with_international_ton_is_refused() {
    assert_has(
        &refused(&carrier_key(
            "destination",
            "{ ton = 1, npi = 1, format = \"national\" }",
        )),
        "carriers.docomo.destination.format: \"national\" does not fit ton 1",
    );
}

#[test]
fn e164_format_with_national_ton_is_refused() {
    assert_has(
        &refused(&carrier_key(
            "source",
            "{ ton = 2, npi = 1, format = \"e164\" }",
        )),
        "carriers.docomo.source.format: \"e164\" does not fit ton 2",
    );
}

#[test]
fn unknown_number_format_is_refused() {
    assert_has(
        &refused(&carrier_key(
            "source",
            "{ ton = 2, npi = 1, format = \"local\" }",
        )),
        "carriers.docomo.source.format: unknown variant `local`",
    );
}

#[test]
fn address_without_npi_is_refused() {
    assert_has(
        &refused(&carrier_key("source", "{ ton = 2, format = \"national\" }")),
        "carriers.docomo.source: missing field `npi`",
    );
}

#[test]
fn bad_country_code_is_refused() {
    assert_has(
        &refused(&carrier_key("country_code", "\"+81\"")),
        "carriers.docomo.country_code: \"+81\" is not allowed (1 to 3 digits, no leading 0 or +)",
    );
}

#[test]
fn default_validity_zero_is_refused() {
    assert_has(
        &refused(&carrier_key("default_validity", "\"0s\"")),
        "carriers.docomo.default_validity: 0s is not allowed (1s..=30d)",
    );
}

#[test]
fn failover_after_zero_is_refused() {
    assert_has(
        &refused(&carrier_key("failover_after", "\"0s\"")),
        "carriers.docomo.failover_after: 0s is not allowed (1s..=1d)",
    );
}

#[test]
fn unknown_long_message_method_is_refused() {
    assert_has(
        &refused(&carrier_key("long_message", "\"udh7\"")),
        "carriers.docomo.long_message: unknown variant `udh7`, expected one of `udh8`, `udh16`, `sar`, `payload`",
    );
}

#[test]
fn unknown_message_id_form_is_refused() {
    assert_has(
        &refused(&carrier_key("message_id", "\"hex\"")),
        "carriers.docomo.message_id: unknown variant `hex`, expected one of `as_is`, `hex_to_dec`, `dec_to_hex`, `auto`",
    );
}

#[test]
fn unknown_registered_delivery_is_refused() {
    assert_has(
        &refused(&carrier_key("registered_delivery", "\"always\"")),
        "carriers.docomo.registered_delivery: unknown variant `always`",
    );
}

#[test]
fn unknown_retry_status_is_refused() {
    assert_has(
        &refused(&carrier_key("retry", "{ ESME_RNOPE = \"transient\" }")),
        "carriers.docomo.retry: \"ESME_RNOPE\" is not a command_status",
    );
}

#[test]
fn esme_rok_in_retry_is_refused() {
    assert_has(
        &refused(&carrier_key("retry", "{ \"0x0\" = \"transient\" }")),
        "carriers.docomo.retry: \"0x0\" is success (ESME_ROK), not a failure to classify",
    );
}

#[test]
fn same_status_twice_in_retry_is_refused() {
    assert_has(
        &refused(&carrier_key(
            "retry",
            "{ ESME_RTHROTTLED = \"transient\", \"0x58\" = \"permanent\" }",
        )),
        "are the same status ESME_RTHROTTLED (0x00000058)",
    );
}

#[test]
fn unknown_retry_class_is_refused() {
    assert_has(
        &refused(&carrier_key("retry", "{ ESME_RSYSERR = \"later\" }")),
        "carriers.docomo.retry.ESME_RSYSERR: unknown variant `later`, expected one of `transient`, `permanent`, `failover`",
    );
}

// ---------------------------------------------------------------- Japan profile

#[test]
fn japan_max_length_zero_is_refused() {
    assert_has(
        &refused(&carrier_key("japan", "{ max_length = 0 }")),
        "carriers.docomo.japan.max_length: 0 is not allowed (1..=17085: UCS-2 text with long_message udh8)",
    );
}

#[test]
fn japan_max_length_above_what_sar_carries_is_refused() {
    let t = text(
        "",
        "long_message = \"sar\"\njapan = { max_length = 17085 }",
        "",
        "",
    );
    assert_has(
        &refused(&t),
        "carriers.docomo.japan.max_length: 17085 is not allowed (1..=16830: UCS-2 text with long_message sar)",
    );
}

#[test]
fn japan_sender_not_a_short_code_is_refused() {
    assert_has(
        &refused(&carrier_key(
            "japan",
            "{ sender_form = \"short_code\", sender = \"0312345678\" }",
        )),
        "carriers.docomo.japan.sender: \"0312345678\" is not allowed (a common short code: 0005 and 6 digits)",
    );
}

#[test]
fn japan_sender_not_a_national_number_is_refused() {
    assert_has(
        &refused(&carrier_key("japan", "{ sender = \"+81312345678\" }")),
        "carriers.docomo.japan.sender: \"+81312345678\" is not allowed (a national number: 0 and 9 or 10 digits)",
    );
}

#[test]
fn unknown_sender_form_is_refused() {
    assert_has(
        &refused(&carrier_key("japan", "{ sender_form = \"alphanumeric\" }")),
        "carriers.docomo.japan.sender_form: unknown variant `alphanumeric`, expected `short_code` or `national`",
    );
}

#[test]
fn sjis_only_takes_a_bool_or_single_messages() {
    use crate::outbox::ShiftJisRule;
    for (value, rule) in [
        ("false", ShiftJisRule::Off),
        ("true", ShiftJisRule::All),
        ("\"single_messages\"", ShiftJisRule::SingleMessages),
    ] {
        let config = load_env(
            &carrier_key("japan", &format!("{{ sjis_only = {value} }}")),
            &[],
        )
        .unwrap_or_else(|e| panic!("{value}: {e:?}"));
        let japan = config.carriers["docomo"].japan.clone().unwrap();
        assert_eq!(japan.sjis_only, rule, "{value}");
        // Written back as it was given (config show).
        let shown = config.to_redacted_toml().unwrap();
        assert!(shown.contains(&format!("sjis_only = {value}")), "{shown}");
    }
}

#[test]
fn sjis_only_of_another_word_is_refused() {
    assert_has(
        &refused(&carrier_key("japan", "{ sjis_only = \"single\" }")),
        "carriers.docomo.japan.sjis_only: invalid value: string \"single\", expected true, false or \"single_messages\"",
    );
}

#[test]
fn unknown_route_kind_is_refused() {
    assert_has(
        &refused(&carrier_key("japan", "{ route_kind = \"direct\" }")),
        "carriers.docomo.japan.route_kind: unknown variant `direct`, expected `domestic` or `international`",
    );
}

#[test]
fn route_japan_max_length_is_checked_against_each_carrier() {
    let t = text("", "", "", "")
        .replace("[carriers.au]", "[carriers.au]\nlong_message = \"udh16\"")
        .replace(
            "carriers = [\"docomo\", \"au\"]",
            "carriers = [\"docomo\", \"au\"]\njapan = { max_length = 17000 }",
        );
    let lines = refused(&t);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_has(
        &lines,
        "routes[0].japan.max_length: 17000 is not allowed (1..=16830: UCS-2 text with carriers.au.long_message udh16)",
    );
}

// ---------------------------------------------------------------- routes

#[test]
fn routes_become_the_routers_rules_with_their_kind() {
    let t = text("", "", "", "")
        .replace(
            "[carriers.au]",
            "[carriers.au]\njapan = { route_kind = \"international\" }",
        )
        + "[[routes]]\nprefix = \"81\"\ncarriers = [\"au\"]\n"
        + "[[routes]]\nprefix = \"\"\ncarriers = [\"docomo\", \"au\"]\njapan = { route_kind = \"international\" }\n";
    let c = load(&t).expect("valid");
    let kinds: Vec<RouteKind> = c.routes.iter().map(|r| r.kind(&c.carriers)).collect();
    // Its own profile, else its first carrier's, else domestic.
    assert_eq!(
        kinds,
        [
            RouteKind::Domestic,
            RouteKind::International,
            RouteKind::International
        ]
    );
    let router = c.router().expect("valid rules");
    let route = router.route(&number("819012345678")).expect("routed");
    assert_eq!(
        (route.carriers.as_slice(), route.kind),
        (
            ["docomo".to_owned(), "au".to_owned()].as_slice(),
            RouteKind::Domestic
        )
    );
    let route = router.route(&number("12125550100")).expect("routed");
    assert_eq!(route.kind, RouteKind::International);
}

#[test]
fn route_carrier_that_is_not_a_carrier_name_is_refused_once() {
    let t = text("", "", "", "").replace("[\"docomo\", \"au\"]", "[\"docomo\", \"A u\"]");
    assert_eq!(
        refused(&t),
        [format!(
            "test.toml:{}: routes[0].carriers[1]: \"A u\" is not a carrier name (1 to 32 of a-z, 0-9, - and _)",
            line_of(&t, "A u")
        )]
    );
}

#[test]
fn no_route_is_refused() {
    let t = text("", "", "", "").replace(
        "[[routes]]\nprefix = \"8190\"\ncarriers = [\"docomo\", \"au\"]",
        "",
    );
    assert_has(&refused(&t), "routes: at least one route is needed");
}

#[test]
fn unknown_carrier_in_route_is_refused() {
    let t = text("", "", "", "").replace("[\"docomo\", \"au\"]", "[\"docomo\", \"softbank\"]");
    let line = line_of(&t, "softbank");
    assert_eq!(
        refused(&t),
        [format!(
            "test.toml:{line}: routes[0].carriers[1]: \"softbank\" is not a configured carrier (configured: au, docomo)"
        )]
    );
}

#[test]
fn route_with_no_carrier_is_refused() {
    let t = text("", "", "", "").replace("[\"docomo\", \"au\"]", "[]");
    assert_has(
        &refused(&t),
        "routes[0].carriers: at least one carrier is needed",
    );
}

#[test]
fn carrier_twice_in_route_is_refused() {
    let t = text("", "", "", "").replace("[\"docomo\", \"au\"]", "[\"au\", \"au\"]");
    assert_has(
        &refused(&t),
        "routes[0].carriers[1]: \"au\" is listed twice",
    );
}

#[test]
fn prefix_with_plus_is_refused() {
    let t = text("", "", "", "").replace("prefix = \"8190\"", "prefix = \"+8190\"");
    assert_has(
        &refused(&t),
        "routes[0].prefix: \"+8190\" is not allowed (0 to 15 digits of an E.164 number, no +)",
    );
}

#[test]
fn duplicate_prefix_is_refused() {
    let t = text(
        "",
        "",
        "",
        "[[routes]]\nprefix = \"8190\"\ncarriers = [\"au\"]",
    );
    assert_has(
        &refused(&t),
        "routes[1].prefix: \"8190\" is also routes[0].prefix",
    );
}

#[test]
fn empty_prefix_matches_every_number_and_is_allowed() {
    let t = text("", "", "", "[[routes]]\nprefix = \"\"\ncarriers = [\"au\"]");
    assert!(load(&t).is_ok());
}

// ---------------------------------------------------------------- top level

#[test]
fn empty_data_dir_is_refused() {
    assert_has(
        &refused(&top_key("data_dir", "\"\"")),
        "data_dir: \"\" is not allowed (a directory path)",
    );
}

#[cfg(not(feature = "sim"))]
#[test]
fn an_enabled_simulator_is_refused_by_a_build_without_it() {
    let t = section("simulator", "enabled = true");
    assert_eq!(
        refused(&t),
        [format!(
            "test.toml:{}: simulator.enabled: this build has no simulator (built without the \"sim\" feature)",
            line_of(&t, "enabled = true")
        )]
    );
    assert!(Config::embedded_default().is_err());
}

#[cfg(feature = "sim")]
#[test]
fn bad_scenario_is_refused() {
    assert_has(
        &refused(&section(
            "simulator",
            "enabled = true\nscenario = \"fixtures/scenarios/none.toml\"",
        )),
        "simulator.scenario: reading fixtures/scenarios/none.toml",
    );
}

#[cfg(feature = "sim")]
#[test]
fn a_scenario_of_the_fixtures_is_accepted() {
    let c = load(&section(
        "simulator",
        "enabled = true\nscenario = \"fixtures/scenarios/throttling.toml\"",
    ))
    .expect("valid");
    let sim = c.simulator.sim_config().expect("scenario");
    assert_eq!(sim.name, "throttling");
    assert_eq!(sim.smpp_addr, c.simulator.smpp_address);
}

#[test]
fn metrics_address_shared_with_the_simulator_is_refused() {
    let t = text(
        "",
        "",
        "",
        "[simulator]\nenabled = true\n[metrics]\naddress = \"127.0.0.1:8775\"",
    );
    assert_has(
        &refused(&t),
        "metrics.address: 127.0.0.1:8775 is also simulator.control_address",
    );
}

#[test]
fn simulator_addresses_shared_are_refused() {
    assert_has(
        &refused(&section(
            "simulator",
            "enabled = true\ncontrol_address = \"127.0.0.1:2775\"",
        )),
        "simulator.control_address: 127.0.0.1:2775 is also simulator.smpp_address",
    );
}

#[test]
fn bad_socket_address_is_refused() {
    assert_has(
        &refused(&section("metrics", "address = \"localhost\"")),
        "metrics.address: invalid socket address syntax",
    );
}

#[test]
fn bad_log_filter_is_refused() {
    assert_has(
        &refused(&section("log", "filter = \"smsgate=loud\"")),
        "log.filter: \"smsgate=loud\" is not a log filter",
    );
}

#[test]
fn unknown_log_format_is_refused() {
    assert_has(
        &refused(&section("log", "format = \"xml\"")),
        "log.format: unknown variant `xml`, expected `text` or `json`",
    );
}

#[test]
fn commit_batch_max_is_not_a_key() {
    // The group committer covers every waiter with each flush; there is nothing to cap.
    assert_has(
        &refused(&section("outbox", "commit_batch_max = 1024")),
        "outbox.commit_batch_max: unknown field `commit_batch_max`",
    );
}

#[test]
fn outbox_retry_initial_above_an_hour_is_refused() {
    assert_has(
        &refused(&section(
            "outbox",
            "retry = { initial = \"2h\", max = \"3h\" }",
        )),
        "outbox.retry.initial: 2h is not allowed (1ms..=1h)",
    );
}

#[test]
fn outbox_retry_max_below_initial_is_refused() {
    assert_has(
        &refused(&section(
            "outbox",
            "retry = { initial = \"1m\", max = \"30s\" }",
        )),
        "outbox.retry.max: 30s is shorter than initial (1m)",
    );
}

#[test]
fn outbox_retry_jitter_below_zero_is_refused() {
    assert_has(
        &refused(&section("outbox", "retry = { jitter = -0.1 }")),
        "outbox.retry.jitter: -0.1 is not allowed (0..=1)",
    );
}

#[test]
fn idempotency_window_zero_is_refused() {
    assert_has(
        &refused(&section("outbox", "idempotency_window = \"0s\"")),
        "outbox.idempotency_window: 0s is not allowed (1s..=30d)",
    );
}

#[test]
fn retentions_below_an_hour_are_refused() {
    let errors = refused(&section(
        "outbox",
        "retention = \"59m\"\nevents_retention = \"0s\"",
    ));
    assert_has(&errors, "outbox.retention: 59m is not allowed (1h..=3650d)");
    assert_has(
        &errors,
        "outbox.events_retention: 0s is not allowed (1h..=3650d)",
    );
}

#[test]
fn a_retention_shorter_than_the_idempotency_window_is_refused() {
    assert_has(
        &refused(&section(
            "outbox",
            "retention = \"12h\"\nidempotency_window = \"1d\"",
        )),
        "outbox.retention: 12h is shorter than outbox.idempotency_window (1d)",
    );
}

#[test]
fn receipt_wait_above_thirty_days_is_refused() {
    assert_has(
        &refused(&section("outbox", "receipt_wait = \"31d\"")),
        "outbox.receipt_wait: 31d is not allowed (1s..=30d)",
    );
}

#[test]
fn receipt_wait_shorter_than_validity_is_refused() {
    assert_has(
        &refused(&section("outbox", "receipt_wait = \"1h\"")),
        "outbox.receipt_wait: 1h is shorter than carriers.docomo.default_validity (1d)",
    );
}

#[test]
fn max_queued_zero_is_refused() {
    assert_has(
        &refused(&section("outbox", "max_queued = 0")),
        "outbox.max_queued: 0 is not allowed (1..=100000000)",
    );
}

#[test]
fn in_memory_zero_and_a_tiny_page_cache_are_refused() {
    assert_has(
        &refused(&section("outbox", "in_memory = 0")),
        "outbox.in_memory: 0 is not allowed (1..=10000000)",
    );
    assert_has(
        &refused(&top_key("data_cache_mb", "8")),
        "data_cache_mb: 8 is not allowed (16..=1048576)",
    );
}

#[test]
fn unbind_deadline_too_short_is_refused() {
    assert_has(
        &refused(&section("shutdown", "unbind_deadline = \"10ms\"")),
        "shutdown.unbind_deadline: 10ms is not allowed (100ms..=5m)",
    );
}

#[test]
fn missing_portability_file_is_refused() {
    assert_has(
        &refused(&section("portability", "file = \"no/such.csv\"")),
        "portability.file: cannot read no/such.csv",
    );
}

#[test]
fn portability_line_with_unknown_carrier_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("p.csv");
    std::fs::write(&csv, "819011112222,au\n819033334444,softbank\n").expect("write");
    assert_has(
        &refused(&section(
            "portability",
            &format!("file = \"{}\"", csv.display()),
        )),
        &format!(
            "portability.file: {}: portability table line 2: carrier \"softbank\" is not configured",
            csv.display()
        ),
    );
}

#[test]
fn a_portability_file_with_many_bad_lines_is_reported_in_short() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("p.csv");
    // 25 carriers that are not configured: 10 named, then a count.
    let lines: String = (0..25)
        .map(|i| format!("8190{i:08},softbank{i}\n"))
        .collect();
    std::fs::write(&csv, lines).expect("write");
    let errors = refused(&section(
        "portability",
        &format!("file = \"{}\"", csv.display()),
    ));
    assert_eq!(errors.len(), 11, "{errors:?}");
    assert_has(&errors, "15 more bad lines");
}

#[test]
fn portability_line_that_is_not_a_number_is_refused_naming_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("p.csv");
    std::fs::write(&csv, "number,carrier\n819011112222,au\n09012345678,au\n").expect("write");
    let errors = refused(&section(
        "portability",
        &format!("file = \"{}\"", csv.display()),
    ));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_has(
        &errors,
        &format!(
            "portability.file: {}: portability table line 3: number \"09012345678\"",
            csv.display()
        ),
    );
}

// ---------------------------------------------------------------- the form of errors

#[test]
fn unknown_key_is_refused_with_its_path() {
    let t = bind_key("windwo", "5");
    let line = line_of(&t, "windwo");
    let lines = refused(&t);
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with(&format!(
            "test.toml:{line}: carriers.docomo.binds[1].windwo: unknown field `windwo`"
        )),
        "{lines:?}"
    );
}

#[test]
fn unknown_top_level_key_is_refused_with_its_line() {
    let t = top_key("dta_dir", "\"x\"");
    assert!(refused(&t)[0].starts_with("test.toml:1: dta_dir: unknown field `dta_dir`"));
}

#[test]
fn type_error_names_the_key_and_the_line() {
    let t = carrier_key("tps", "\"fast\"");
    let line = line_of(&t, "tps = \"fast\"");
    assert_eq!(
        refused(&t),
        [format!(
            "test.toml:{line}: carriers.docomo.tps: invalid type: string \"fast\", expected u32"
        )]
    );
}

#[test]
fn bad_duration_is_refused() {
    let t = carrier_key("response_timeout", "\"10 seconds\"");
    let line = line_of(&t, "10 seconds");
    assert_eq!(
        refused(&t),
        [format!(
            "test.toml:{line}: carriers.docomo.response_timeout: \"10 seconds\" is not a duration: unknown unit \" seconds\" (ms, s, m, h or d)"
        )]
    );
}

#[test]
fn duration_written_as_a_number_is_refused() {
    assert_has(
        &refused(&carrier_key("response_timeout", "10")),
        "carriers.docomo.response_timeout: invalid type: integer `10`, expected a duration string",
    );
}

#[test]
fn toml_syntax_error_names_the_line() {
    let lines = refused("data_dir = \"x\"\n[carriers.docomo\n");
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("test.toml:2: "), "{lines:?}");
    assert!(!lines[0].contains('\n'));
}

#[test]
fn several_errors_are_reported_together_one_line_each() {
    let t = text(
        "data_dir = \"\"",
        "tps = 0\nreconnect = { jitter = 2.0 }",
        "window = 0",
        "[[routes]]\nprefix = \"8180\"\ncarriers = [\"kddi\"]",
    );
    let lines = refused(&t);
    assert_eq!(lines.len(), 5, "{lines:?}");
    for (expected, needle) in [
        ("data_dir: \"\" is not allowed", "data_dir = \"\""),
        ("carriers.docomo.tps: 0 is not allowed", "tps = 0"),
        (
            "carriers.docomo.reconnect.jitter: 2 is not allowed",
            "jitter = 2.0",
        ),
        (
            "carriers.docomo.binds[1].window: 0 is not allowed",
            "window = 0",
        ),
        (
            "routes[1].carriers[0]: \"kddi\" is not a configured carrier",
            "kddi",
        ),
    ] {
        assert_has(
            &lines,
            &format!("test.toml:{}: {expected}", line_of(&t, needle)),
        );
    }
    assert!(lines.iter().all(|l| !l.contains('\n')));
}

#[test]
fn a_defaulted_key_is_reported_at_its_table() {
    // receipt_wait is not written; the error points at [outbox].
    let t = section("outbox", "max_queued = 5");
    let line = line_of(&t, "max_queued = 5");
    let t = t.replace(
        "[carriers.docomo]\n",
        "[carriers.docomo]\ndefault_validity = \"4d\"\n",
    );
    assert_has(
        &refused(&t),
        &format!("test.toml:{line}: outbox.receipt_wait: 3d is shorter than carriers.docomo.default_validity (4d)"),
    );
}

// ---------------------------------------------------------------- environment overrides

#[test]
fn env_override_sets_a_nested_key() {
    let c = load_env(
        &text("", "", "", ""),
        &[("SMSGATE_CARRIERS__DOCOMO__BINDS__1__WINDOW", "50")],
    )
    .expect("valid");
    assert_eq!(c.carriers["docomo"].binds[1].window, 50);
    assert_eq!(c.carriers["docomo"].binds[0].window, 10);
}

#[cfg(feature = "sim")]
#[test]
fn env_override_sets_top_level_and_new_keys() {
    let c = load_env(
        &text("", "", "", ""),
        &[
            ("SMSGATE_DATA_DIR", "/var/lib/smsgate"),
            ("SMSGATE_CARRIERS__AU__TPS", "75"),
            ("SMSGATE_CARRIERS__AU__RECONNECT__MAX", "2m"),
            ("SMSGATE_LOG__FORMAT", "json"),
            ("SMSGATE_SIMULATOR__ENABLED", "true"),
            ("SMSGATE_ROUTES__0__CARRIERS", "[\"au\"]"),
            ("SMSGATE_CARRIERS__AU__RETRY__ESME_RSYSERR", "permanent"),
        ],
    )
    .expect("valid");
    assert_eq!(c.data_dir, Path::new("/var/lib/smsgate"));
    let au = &c.carriers["au"];
    assert_eq!(au.tps, Some(75));
    assert_eq!(au.reconnect.maximum(), Duration::from_secs(120));
    assert_eq!(c.log.format, LogFormat::Json);
    assert!(c.simulator.enabled);
    assert_eq!(c.routes[0].carriers, ["au"]);
    assert_eq!(
        au.retry.classify(CommandStatus::ESME_RSYSERR),
        StatusClass::Permanent
    );
}

#[test]
fn env_override_matches_hyphenated_carrier_names() {
    let t = text("", "", "", "")
        .replace("carriers.au", "carriers.au-kddi")
        .replace("\"au\"]", "\"au-kddi\"]");
    let c = load_env(&t, &[("SMSGATE_CARRIERS__AU_KDDI__TPS", "9")]).expect("valid");
    assert_eq!(c.carriers["au-kddi"].tps, Some(9));
}

#[test]
fn env_override_keeps_a_string_a_string() {
    // "12345678" would read as a TOML integer; the file has a string there.
    let c = load_env(
        &text("", "", "", ""),
        &[("SMSGATE_CARRIERS__AU__BINDS__0__PASSWORD", "12345678")],
    )
    .expect("valid");
    assert_eq!(
        c.carriers["au"].binds[0]
            .password()
            .map(|p| p.expose_secret()),
        Some("12345678")
    );
}

#[test]
fn env_override_bad_value_is_refused_naming_the_variable() {
    let lines = refused_env(
        &text("", "", "", ""),
        &[("SMSGATE_CARRIERS__DOCOMO__BINDS__1__WINDOW", "lots")],
    );
    assert_eq!(
        lines,
        ["env SMSGATE_CARRIERS__DOCOMO__BINDS__1__WINDOW: carriers.docomo.binds[1].window: invalid type: string \"lots\", expected u32"]
    );
}

#[test]
fn env_override_out_of_range_value_is_refused_naming_the_variable() {
    assert_has(
        &refused_env(
            &text("", "", "", ""),
            &[("SMSGATE_CARRIERS__DOCOMO__BINDS__1__WINDOW", "0")],
        ),
        "env SMSGATE_CARRIERS__DOCOMO__BINDS__1__WINDOW: carriers.docomo.binds[1].window: 0 is not allowed (1..=1000)",
    );
}

#[test]
fn env_override_bad_duration_is_refused_naming_the_variable() {
    assert_has(
        &refused_env(
            &text("", "", "", ""),
            &[("SMSGATE_SHUTDOWN__UNBIND_DEADLINE", "5")],
        ),
        "env SMSGATE_SHUTDOWN__UNBIND_DEADLINE: shutdown.unbind_deadline: invalid type: integer `5`",
    );
}

#[test]
fn env_override_unknown_key_is_refused_naming_the_variable() {
    assert_has(
        &refused_env(
            &text("", "", "", ""),
            &[("SMSGATE_CARRIERS__DOCOMO__WINDOWS", "5")],
        ),
        "env SMSGATE_CARRIERS__DOCOMO__WINDOWS: carriers.docomo.windows: unknown field `windows`",
    );
}

#[test]
fn env_override_out_of_range_index_is_refused() {
    assert_has(
        &refused_env(
            &text("", "", "", ""),
            &[("SMSGATE_CARRIERS__DOCOMO__BINDS__2__WINDOW", "5")],
        ),
        "env SMSGATE_CARRIERS__DOCOMO__BINDS__2__WINDOW: carriers.docomo.binds[2]: no such entry: the array has 2",
    );
}

#[test]
fn env_override_non_index_into_an_array_is_refused() {
    assert_has(
        &refused_env(
            &text("", "", "", ""),
            &[("SMSGATE_CARRIERS__DOCOMO__BINDS__WINDOW", "5")],
        ),
        "env SMSGATE_CARRIERS__DOCOMO__BINDS__WINDOW: carriers.docomo.binds: is an array: the step \"WINDOW\" must be an index (0..2)",
    );
}

#[test]
fn env_override_through_a_scalar_is_refused() {
    assert_has(
        &refused_env(
            &top_key("data_dir", "\"x\""),
            &[("SMSGATE_DATA_DIR__X", "5")],
        ),
        "env SMSGATE_DATA_DIR__X: data_dir: is a string, not a table",
    );
}

#[test]
fn env_override_malformed_name_is_refused() {
    assert_has(
        &refused_env(&text("", "", "", ""), &[("SMSGATE_CARRIERS____TPS", "5")]),
        "env SMSGATE_CARRIERS____TPS: not a key path",
    );
}

#[test]
fn other_variables_are_ignored() {
    let c = load_env(
        &text("", "", "", ""),
        &[("PATH", "/bin"), ("SMSGATEX", "1"), ("RUST_LOG", "trace")],
    );
    assert!(c.is_ok());
}
