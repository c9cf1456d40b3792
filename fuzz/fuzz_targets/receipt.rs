//! Fuzzes `Receipt::parse`: it must never panic, and whatever it accepts must format to a
//! receipt that parses again with the same id, stat and err.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smpp::receipt::Receipt;

/// `err` as `Receipt::format` writes it: 1-2 ASCII digits are zero-padded to 3
/// (documented, so `err:0` comes back as `000`); anything else as is.
fn formatted_err(err: Option<&str>) -> Option<String> {
    let err = err.filter(|e| !e.is_empty())?;
    if err.len() < 3 && err.bytes().all(|b| b.is_ascii_digit()) {
        Some(format!("{err:0>3}"))
    } else {
        Some(err.to_owned())
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(receipt) = Receipt::parse(data) else {
        return;
    };
    let formatted = receipt.format();
    let again = match Receipt::parse(&formatted) {
        Ok(again) => again,
        Err(e) => panic!(
            "formatted receipt does not parse: {e}\n  input: {:?}\n  formatted: {:?}\n  parsed: {receipt:?}",
            String::from_utf8_lossy(data),
            String::from_utf8_lossy(&formatted),
        ),
    };
    let context = || {
        format!(
            "\n  input: {:?}\n  formatted: {:?}\n  first: {receipt:?}\n  again: {again:?}",
            String::from_utf8_lossy(data),
            String::from_utf8_lossy(&formatted),
        )
    };
    assert_eq!(again.id, receipt.id, "id changed{}", context());
    assert_eq!(again.stat, receipt.stat, "stat changed{}", context());
    assert_eq!(
        again.err,
        formatted_err(receipt.err.as_deref()),
        "err changed{}",
        context()
    );
});
