// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::gateway::{plan, CarrierSpec};

const BASE: &str = r#"
[carriers.au]
[[carriers.au.binds]]
host = "127.0.0.1"
port = 2775
system_id = "au"
password = "pw-au"

[carriers.docomo]
tps = 50
[[carriers.docomo.binds]]
host = "127.0.0.1"
port = 2776
system_id = "docomo"
password = "pw-do"

[[routes]]
prefix = "81"
carriers = ["au", "docomo"]
"#;

fn load(text: &str) -> (Config, tempfile::TempDir) {
    let mut config = Config::from_toml("test.toml", text, std::iter::empty()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    config.data_dir = dir.path().to_path_buf();
    (config, dir)
}

fn carriers(text: &str) -> Vec<CarrierSpec> {
    let (config, _dir) = load(text);
    crate::wiring::spec(&config).unwrap().carriers
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_same_configuration_changes_nothing() {
    let p = plan(&carriers(BASE), &carriers(BASE));
    assert!(p.is_empty());
    assert_eq!(p.unchanged, names(&["au", "docomo"]));
}

#[test]
fn a_new_carrier_is_added_and_a_missing_one_removed() {
    let new = BASE.replace("carriers.docomo", "carriers.rakuten").replace(
        "carriers = [\"au\", \"docomo\"]",
        "carriers = [\"au\", \"rakuten\"]",
    );
    let p = plan(&carriers(BASE), &carriers(&new));
    assert_eq!(p.added, names(&["rakuten"]));
    assert_eq!(p.removed, names(&["docomo"]));
    assert!(p.changed.is_empty());
    assert_eq!(p.unchanged, names(&["au"]));
}

#[test]
fn a_changed_password_address_pacing_profile_or_matcher_is_a_change() {
    let old = carriers(BASE);
    for (what, new) in [
        ("password", BASE.replace("pw-do", "pw-new")),
        ("port", BASE.replace("2776", "2777")),
        ("tps", BASE.replace("tps = 50", "tps = 40")),
        (
            "profile",
            BASE.replace("tps = 50", "tps = 50\ndefault_validity = \"1h\""),
        ),
        (
            "matcher",
            BASE.replace("tps = 50", "tps = 50\nmessage_id = \"as_is\""),
        ),
        (
            "binds",
            BASE.replace("password = \"pw-do\"", "password = \"pw-do\"\ncount = 2"),
        ),
    ] {
        let p = plan(&old, &carriers(&new));
        assert_eq!(p.changed, names(&["docomo"]), "{what}");
        assert_eq!(p.unchanged, names(&["au"]), "{what}");
        assert!(p.added.is_empty() && p.removed.is_empty(), "{what}");
    }
}

#[test]
fn only_sections_that_cannot_change_live_need_a_restart() {
    let (old, _d1) = load(BASE);
    let (mut new, _d2) = load(&BASE.replace("pw-do", "other"));
    new.data_dir = old.data_dir.clone();
    new.outbox.max_queued = 7;
    assert!(needs_restart(&old, &new).is_empty());
    new.api.address = "127.0.0.1:1".parse().unwrap();
    new.data_dir = PathBuf::from("elsewhere");
    assert_eq!(needs_restart(&old, &new), names(&["api", "data_dir"]));
}

#[test]
fn the_overrides_win_over_the_file() {
    let (mut config, _dir) = load(BASE);
    let overrides = Overrides {
        data_dir: Some(PathBuf::from("/tmp/x")),
        api_addr: Some("127.0.0.1:9".parse().unwrap()),
        ..Overrides::default()
    };
    overrides.apply(&mut config);
    assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
    assert_eq!(config.api.address, "127.0.0.1:9".parse().unwrap());
}
