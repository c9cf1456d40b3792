//! Throughput of the outbox core over sled, one message's whole walk: accept + group
//! commit (a bounded number of acks outstanding, so concurrent backends share flushes), dispatch,
//! submit_sm_resp, receipt + commit. No sockets: this measures the core and the disk only.
//!
//! `cargo run --release --example outbox_throughput -- [MESSAGES] [BATCH]`
//! (defaults 20000 and 100: at most BATCH acks outstanding, as that many concurrent
//! backends would keep; 0 waits only at the end).

use smsgate::carrier::number::Msisdn;
use smsgate::outbox::{
    Addressing, CarrierProfile, Class, IncomingReceipt, NewMessage, Outbox, Route, RouteKind,
    Settings, SubmitResult, TextProfile,
};
use smsgate::store::SledStore;
use std::collections::{HashMap, VecDeque};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// As the binary: mimalloc.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let messages: usize = args.next().map_or(Ok(20_000), |a| a.parse())?;
    let batch: usize = args.next().map_or(Ok(100), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let now = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    };
    let carriers = HashMap::from([(
        "sim".to_owned(),
        CarrierProfile::new(TextProfile::default(), Addressing::default(), 3_600_000),
    )]);
    let mut outbox = Outbox::recover(
        SledStore::open(dir.path())?,
        Settings::default(),
        carriers,
        now(),
    )?;
    let route = Route {
        carriers: vec!["sim".into()],
        kind: RouteKind::Domestic,
    };

    let start = Instant::now();
    let mut waits = VecDeque::with_capacity(batch + 1);
    for i in 0..messages {
        let message = NewMessage {
            to: Msisdn::parse_e164(&format!("8190{:08}", i % 50_000))?,
            from: Some("SMSGATE".into()),
            text: format!("Your code is {:06}", i % 1_000_000),
            masked: None,
            id: None,
            class: Class::Otp,
            client_ref: Some(format!("ref-{i}")),
            validity_ms: None,
            registered_delivery: true,
            owner: None,
        };
        outbox.accept(message, route.clone(), now())?;
        if batch == 0 {
            continue;
        }
        waits.push_back(outbox.commit());
        if waits.len() > batch {
            if let Some(w) = waits.pop_front() {
                w.wait_blocking()?;
            }
        }
    }
    for w in waits.drain(..) {
        w.wait_blocking()?;
    }
    let accepted = start.elapsed();
    let flushes = outbox.store().flushes();

    let start = Instant::now();
    let mut done = 0;
    loop {
        let work = outbox.take_work("sim", 100, now())?;
        if work.is_empty() {
            break;
        }
        for d in work {
            let carrier_id = format!("{:x}", d.key.message.0);
            outbox.on_submit_resp(
                d.key,
                SubmitResult::Submitted {
                    carrier_id: carrier_id.clone(),
                },
                now(),
            )?;
            let receipt = IncomingReceipt {
                carrier: "sim".into(),
                candidates: vec![carrier_id],
                state: smpp::values::MessageState::Delivered,
                network_error: None,
            };
            outbox.on_receipt(receipt, now())?;
            done += 1;
            if batch == 0 {
                continue;
            }
            waits.push_back(outbox.commit());
            if waits.len() > batch {
                if let Some(w) = waits.pop_front() {
                    w.wait_blocking()?;
                }
            }
        }
    }
    for w in waits.drain(..) {
        w.wait_blocking()?;
    }
    let delivered = start.elapsed();

    let rate = |n: usize, d: std::time::Duration| n as f64 / d.as_secs_f64().max(1e-9);
    println!(
        "accept+commit: {messages} in {accepted:.2?} = {:.0}/s ({flushes} flushes)",
        rate(messages, accepted)
    );
    println!(
        "dispatch+submit_sm_resp+receipt+commit: {done} in {delivered:.2?} = {:.0}/s",
        rate(done, delivered)
    );
    println!("open messages left: {}", outbox.open_messages());
    Ok(())
}
