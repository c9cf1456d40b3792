//! The lexer of Appendix B receipt text: splits the octets into `key:value` fields, bare
//! words and the trailing `text:`, tolerating the layouts SMSCs send (see the receipt
//! module's documentation). Every slice access is checked.

/// Separators between receipt fields.
const fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0)
}

/// `bytes` without leading and trailing separators.
pub(super) fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| !is_sep(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_sep(b))
        .map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// A recognised receipt key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
    Id,
    Sub,
    Dlvrd,
    SubmitDate,
    DoneDate,
    Stat,
    Err,
    Text,
    Other,
}

impl Key {
    pub(super) fn classify(key: &[u8]) -> Key {
        const KEYS: [(&[u8], Key); 10] = [
            (b"id", Key::Id),
            (b"sub", Key::Sub),
            (b"dlvrd", Key::Dlvrd),
            (b"stat", Key::Stat),
            (b"err", Key::Err),
            (b"text", Key::Text),
            (b"submit_date", Key::SubmitDate),
            (b"done_date", Key::DoneDate),
            (b"submitdate", Key::SubmitDate),
            (b"donedate", Key::DoneDate),
        ];
        KEYS.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map_or(Key::Other, |&(_, k)| k)
    }
}

/// One lexical item of a receipt.
pub(super) enum Token<'a> {
    /// `key:value`; `raw_key` is the key as written.
    Field {
        key: Key,
        raw_key: &'a [u8],
        value: &'a [u8],
    },
    /// `text:` and everything after it.
    Text(&'a [u8]),
    /// A word without a colon.
    Bare(&'a [u8]),
}

/// Hand-written scanner over the receipt octets; every slice access is checked.
pub(super) struct Scanner<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `input`.
    pub(super) fn new(input: &'a [u8]) -> Self {
        Scanner { input, pos: 0 }
    }

    fn slice(&self, start: usize, end: usize) -> &'a [u8] {
        self.input.get(start..end).unwrap_or_default()
    }

    /// First index at or after `from` whose octet satisfies `pred`, or the input length.
    fn find(&self, from: usize, pred: impl Fn(u8) -> bool) -> usize {
        self.input
            .get(from..)
            .and_then(|rest| rest.iter().position(|&b| pred(b)))
            .map_or(self.input.len(), |i| from + i)
    }

    fn skip_seps(&self, from: usize) -> usize {
        self.find(from, |b| !is_sep(b))
    }

    /// `submit date:` / `done date:` (any case, any separator run between the words) at
    /// `at`: the key and the index after the colon.
    fn date_key_at(&self, at: usize) -> Option<(Key, usize)> {
        let rest = self.input.get(at..)?;
        let (key, word_len) = if starts_with_ci(rest, b"submit") {
            (Key::SubmitDate, 6)
        } else if starts_with_ci(rest, b"done") {
            (Key::DoneDate, 4)
        } else {
            return None;
        };
        let gap_start = at + word_len;
        let date_start = self.skip_seps(gap_start);
        if date_start == gap_start {
            return None;
        }
        let after = self.input.get(date_start..)?;
        (starts_with_ci(after, b"date") && after.get(4) == Some(&b':'))
            .then_some((key, date_start + 5))
    }

    pub(super) fn next_token(&mut self) -> Option<Token<'a>> {
        let start = self.skip_seps(self.pos);
        if start >= self.input.len() {
            self.pos = start;
            return None;
        }
        if let Some((key, after_colon)) = self.date_key_at(start) {
            self.pos = after_colon;
            let raw_key = self.slice(start, after_colon - 1);
            let value = self.value();
            return Some(Token::Field {
                key,
                raw_key,
                value,
            });
        }
        let end = self.find(start, |b| is_sep(b) || b == b':');
        let word = self.slice(start, end);
        if self.input.get(end) != Some(&b':') {
            self.pos = end;
            return Some(Token::Bare(word));
        }
        self.pos = end + 1;
        match Key::classify(word) {
            Key::Text => {
                let text = self.slice(self.pos, self.input.len());
                self.pos = self.input.len();
                Some(Token::Text(text))
            }
            key => {
                let value = self.value();
                Some(Token::Field {
                    key,
                    raw_key: word,
                    value,
                })
            }
        }
    }

    /// The value after a key's colon: up to the next separator. When that is empty, the
    /// next word is taken instead (`err: 0`) unless it is itself a key.
    fn value(&mut self) -> &'a [u8] {
        let start = self.pos;
        let end = self.find(start, is_sep);
        if end > start {
            self.pos = end;
            return self.slice(start, end);
        }
        let next = self.skip_seps(end);
        let next_end = self.find(next, is_sep);
        let word = self.slice(next, next_end);
        if word.is_empty() || word.contains(&b':') || self.date_key_at(next).is_some() {
            self.pos = end;
            return &[];
        }
        self.pos = next_end;
        word
    }
}

fn starts_with_ci(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack
        .get(..prefix.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(prefix))
}
