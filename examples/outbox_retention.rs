//! Disk use of the outbox with and without retention: ROUNDS rounds of MESSAGES messages
//! carried through the core (accept, dispatch, submit_sm_resp, DELIVRD receipt), the
//! clock moved two hours on after each round and the tick run until it has nothing left
//! to remove. With retention on (1 h for messages and events), each round's records go in
//! the next one and the data directory stops growing; off (3650 days), it grows with
//! every round. No sockets; the clock is simulated, the disk is real.
//!
//! `cargo run --release --example outbox_retention -- [ROUNDS] [MESSAGES] [on|off]`
//! (defaults 10, 50000, on).

use smsgate::carrier::number::Msisdn;
use smsgate::outbox::{
    Addressing, CarrierProfile, Class, IncomingReceipt, NewMessage, Outbox, Route, RouteKind,
    Settings, SubmitResult, TextProfile,
};
use smsgate::store::{MessageId, SledStore, Storage};
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// As the binary: mimalloc.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HOUR: u64 = 3_600_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().map_or(Ok(10), |a| a.parse())?;
    let messages: usize = args.next().map_or(Ok(50_000), |a| a.parse())?;
    let on = match args.next().as_deref() {
        None | Some("on") => true,
        Some("off") => false,
        Some(other) => return Err(format!("{other}: expected on or off").into()),
    };
    let keep = if on { HOUR } else { 3650 * 24 * HOUR };
    let settings = Settings {
        retention_ms: keep,
        events_retention_ms: keep,
        ..Settings::default()
    };
    let dir = tempfile::tempdir()?;
    let carriers = HashMap::from([(
        "sim".to_owned(),
        CarrierProfile::new(TextProfile::default(), Addressing::default(), HOUR),
    )]);
    let mut now = 1_700_000_000_000u64;
    let mut outbox = Outbox::recover(SledStore::open(dir.path())?, settings, carriers, now)?;
    let route = Route {
        carriers: vec!["sim".into()],
        kind: RouteKind::Domestic,
    };
    println!(
        "retention {}: {rounds} rounds of {messages} messages",
        if on { "1h" } else { "off" }
    );
    println!("round  carried  kept final  removed  data dir MiB  round s  sweep s");
    let mut carried = 0usize;
    for round in 1..=rounds {
        let start = Instant::now();
        for i in 0..messages {
            let message = NewMessage {
                to: Msisdn::parse_e164(&format!("8190{:08}", i % 50_000))?,
                from: Some("SMSGATE".into()),
                text: format!("Your parcel {i} arrives today between 10 and 12"),
                masked: None,
                id: None,
                class: Class::Bulk,
                client_ref: None,
                validity_ms: None,
                registered_delivery: true,
                owner: None,
            };
            outbox.accept(message, route.clone(), now)?;
            if i % 256 == 255 {
                outbox.commit().wait_blocking()?;
                deliver(&mut outbox, now)?;
            }
        }
        deliver(&mut outbox, now)?;
        outbox.commit().wait_blocking()?;
        carried += messages;
        now += 2 * HOUR;
        let mut removed = 0;
        let sweep = Instant::now();
        loop {
            let report = outbox.tick(now)?;
            removed += report.messages_swept;
            if report.messages_swept == 0 && report.events_swept == 0 {
                break;
            }
            now += 1_000;
        }
        outbox.commit().wait_blocking()?;
        let sweep = sweep.elapsed().as_secs_f64();
        println!(
            "{round:>5}  {carried:>7}  {:>10}  {removed:>7}  {:>12.1}  {:>7.1}  {:>7.2}",
            kept(outbox.store())?,
            size(dir.path()) as f64 / f64::from(1 << 20),
            start.elapsed().as_secs_f64(),
            sweep
        );
    }
    Ok(())
}

/// Takes every ready message, answers its submit_sm and its receipt.
fn deliver(outbox: &mut Outbox<SledStore>, now: u64) -> Result<(), Box<dyn std::error::Error>> {
    loop {
        let work = outbox.take_work("sim", 100, now)?;
        if work.is_empty() {
            return Ok(());
        }
        for d in work {
            let carrier_id = format!("{:x}", d.key.message.0);
            outbox.on_submit_resp(
                d.key,
                SubmitResult::Submitted {
                    carrier_id: carrier_id.clone(),
                },
                now,
            )?;
            outbox.on_receipt(
                IncomingReceipt {
                    carrier: "sim".into(),
                    candidates: vec![carrier_id],
                    state: smpp::values::MessageState::Delivered,
                    network_error: None,
                },
                now,
            )?;
        }
    }
}

/// Final messages in the store.
fn kept(store: &SledStore) -> Result<usize, Box<dyn std::error::Error>> {
    let mut n = 0;
    let mut from = MessageId(0);
    loop {
        let chunk = store.final_messages_from(from, u64::MAX, 4_096)?;
        let Some(last) = chunk.last() else {
            return Ok(n);
        };
        n += chunk.len();
        from = MessageId(last.id.0 + 1);
    }
}

/// Bytes of every file under `dir`.
fn size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
