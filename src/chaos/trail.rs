//! The trail of a lost message in the gateway's log: the lines that name it by its id or
//! by one of the carrier ids it holds, so that a failed run (in CI, where nobody can look
//! at the work directory) says where the message's story stopped.

use serde::Serialize;

/// The most lines a trail keeps: the last ones, which are where the story stops.
pub const MAX_LINES: usize = 40;

/// One lost message's lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trail {
    /// The gateway's message id.
    pub message_id: String,
    /// Lines that named it, oldest first, without colour codes; at most [`MAX_LINES`],
    /// the last ones.
    pub lines: Vec<String>,
    /// Lines that named it before the ones kept.
    pub left_out: usize,
}

/// The lines of `log` naming the message `id` (`id=…`) or one of `carrier_ids`
/// (`carrier_id=…`, or quoted in a list such as `ids=["…"]`).
pub fn trail(log: &str, id: &str, carrier_ids: &[String]) -> Trail {
    let by_id = format!("id={id}");
    let quoted: Vec<String> = carrier_ids.iter().map(|c| format!("\"{c}\"")).collect();
    let by_carrier: Vec<String> = carrier_ids
        .iter()
        .map(|c| format!("carrier_id={c}"))
        .collect();
    let mut lines: Vec<String> = log
        .lines()
        .map(strip_colour)
        .filter(|line| {
            line.split_whitespace().any(|word| {
                word == by_id
                    || by_carrier.iter().any(|c| word == c)
                    || quoted.iter().any(|q| word.contains(q.as_str()))
            })
        })
        .collect();
    let left_out = lines.len().saturating_sub(MAX_LINES);
    lines.drain(..left_out);
    Trail {
        message_id: id.to_owned(),
        lines,
        left_out,
    }
}

/// The line without its ANSI colour sequences (`ESC [ … m`).
fn strip_colour(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip to the sequence's final letter.
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
\u{1b}[2m2026-12-03T18:57:07Z\u{1b}[0m  INFO smsgate::message: accepted id=6000145 class=\"bulk\"
2026-12-03T18:57:07Z  INFO smsgate::message: accepted id=60001450 class=\"bulk\"
2026-12-03T18:57:08Z  INFO smsgate::message: submitted id=6000145 segment=1 carrier_id=2d3 state=\"submitted\"
2026-12-03T18:57:09Z DEBUG smsgate::message: receipt kept for late matching carrier=sim carrier_id=2d3 kept=true
2026-12-03T18:57:09Z DEBUG smsgate::message: receipt refused for now carrier=sim ids=[\"2d3\", \"723\"]
2026-12-03T18:57:09Z DEBUG smsgate::message: receipt refused for now carrier=sim ids=[\"2d30\"]
";

    #[test]
    fn the_trail_is_the_lines_naming_the_message_or_its_carrier_ids() {
        let t = trail(LOG, "6000145", &["2d3".to_owned()]);
        assert_eq!(t.left_out, 0);
        assert_eq!(t.lines.len(), 4, "{:#?}", t.lines);
        assert_eq!(
            t.lines[0],
            "2026-12-03T18:57:07Z  INFO smsgate::message: accepted id=6000145 class=\"bulk\"",
            "colour codes removed"
        );
        assert!(t.lines[1].contains("submitted"));
        assert!(t.lines[3].contains("ids=[\"2d3\""));
        assert!(t
            .lines
            .iter()
            .all(|l| !l.contains("60001450") && !l.contains("2d30")));
    }

    #[test]
    fn a_long_trail_keeps_its_last_lines() {
        let log: String = (0..MAX_LINES + 5)
            .map(|n| format!("line {n} id=7\n"))
            .collect();
        let t = trail(&log, "7", &[]);
        assert_eq!(t.left_out, 5);
        assert_eq!(t.lines.len(), MAX_LINES);
        assert_eq!(t.lines[0], "line 5 id=7");
        assert_eq!(trail(&log, "8", &[]).lines, Vec::<String>::new());
    }
}
