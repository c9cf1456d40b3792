//! Hot-path benches of the carrier parts: one submit's trip through a bind's window at 100
//! in flight (insert, then the response completes the oldest), and one admission through a
//! bind's pacer and its carrier's bucket.
//!
//! `cargo bench --bench carrier`
// Bench code: a failed expect is a broken bench, not a runtime path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use smsgate::carrier::throttle::{Admit, Pacer, PacerConfig, TokenBucket};
use smsgate::carrier::window::Window;
use std::time::{Duration, Instant};

/// Requests in flight while the window is measured.
const IN_FLIGHT: u32 = 100;

fn window(c: &mut Criterion) {
    let t0 = Instant::now();
    let mut w: Window<u64> = Window::new(1000, Duration::from_secs(10)).expect("window");
    // The sequence numbers in flight, oldest at `at`.
    let mut ring: Vec<u32> = (1..=IN_FLIGHT).collect();
    for &seq in &ring {
        w.insert(seq, u64::from(seq), t0).expect("room");
    }
    let (mut at, mut next) = (0usize, IN_FLIGHT + 1);
    let mut group = c.benchmark_group("window");
    group.throughput(Throughput::Elements(1));
    group.bench_function("insert_complete_at_100_in_flight", |b| {
        b.iter(|| {
            w.insert(next, u64::from(next), t0).expect("room");
            let oldest = std::mem::replace(&mut ring[at], next);
            at = (at + 1) % ring.len();
            // 5.1.4: sequence numbers wrap from 0x7FFFFFFF to 1.
            next = if next == 0x7FFF_FFFF { 1 } else { next + 1 };
            black_box(w.complete(black_box(oldest)).expect("in flight"))
        })
    });
    group.finish();
}

fn pacer(c: &mut Criterion) {
    let t0 = Instant::now();
    let mut carrier = TokenBucket::new(1_000_000.0, 1000, t0).expect("bucket");
    let mut p = Pacer::new(PacerConfig::new(1_000_000.0, 1000, 100), t0).expect("pacer");
    let mut now = t0;
    let mut group = c.benchmark_group("pacer");
    group.throughput(Throughput::Elements(1));
    group.bench_function("admit", |b| {
        b.iter(|| {
            now += Duration::from_micros(2);
            let admitted = p.admit(&mut carrier, black_box(50), now);
            if admitted == Admit::Go {
                p.on_success(now);
            }
            black_box(admitted)
        })
    });
    group.finish();
}

criterion_group!(benches, window, pacer);
criterion_main!(benches);
