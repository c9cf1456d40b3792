//! The texts of verification messages: one template per locale and channel, checked when
//! set, rendered with the code (or link), the validity in minutes and the service name,
//! optionally ending in an origin-bound code line, and always fitting one SMS segment.
//!
//! # Templates
//!
//! A template is text with placeholders in braces:
//!
//! | placeholder | becomes | allowed in |
//! |---|---|---|
//! | `{code}` | the verification code | [`Channel::Sms`], exactly once |
//! | `{link}` | the link with its one-time token | [`Channel::SmsLink`], exactly once |
//! | `{minutes}` | the validity in whole minutes | both |
//! | `{service}` | the service or company name | both |
//!
//! `{{` and `}}` write a literal brace. When the service name is empty, `{service}` goes
//! away together with one space next to it, so `"{service} code: {code}"` renders as
//! `"code: 123456"`.
//!
//! # Origin-bound codes
//!
//! With an origin (a domain such as `example.com`), an SMS code message gets a last line
//! `@example.com #123456`: the origin-bound one-time code format, with which browsers
//! (WebOTP, iOS and Android autofill) offer the code only on that site. Link messages
//! never get it.
//!
//! # One segment
//!
//! A rendered text must fit one short message, never a concatenated one: if every
//! character is in the GSM 03.38 default alphabet or its extension table (extension
//! characters count two septets, TS 23.038 §6.2.1.1), at most 160 septets; otherwise it
//! goes as UCS-2, at most 70 UTF-16 code units (both: TS 23.040 §9.2.3.16, 140 octets of
//! user data). This is the encoding choice of [`smpp::text::choose`], which sends it.

use smpp::text::{gsm7, ucs2, Encoding};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The language of a message.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// Japanese.
    #[default]
    Ja,
    /// English.
    En,
}

impl Locale {
    /// Every locale.
    pub const ALL: [Locale; 2] = [Locale::Ja, Locale::En];

    /// Its language tag: `ja`, `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Ja => "ja",
            Locale::En => "en",
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Locale {
    type Err = TemplateError;

    /// `ja` or `en`, in any case, optionally with region or script subtags (`ja-JP`,
    /// `en_US`): only the language counts.
    fn from_str(text: &str) -> Result<Locale, TemplateError> {
        let unknown = || TemplateError::Locale {
            value: text.to_owned(),
        };
        let mut subtags = text.split(['-', '_']);
        let language = subtags.next().unwrap_or_default();
        if !subtags.all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())) {
            return Err(unknown());
        }
        if language.eq_ignore_ascii_case("ja") {
            Ok(Locale::Ja)
        } else if language.eq_ignore_ascii_case("en") {
            Ok(Locale::En)
        } else {
            Err(unknown())
        }
    }
}

/// How the secret reaches the user.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// An SMS with the code to type in.
    Sms,
    /// An SMS with a link that carries a one-time token.
    SmsLink,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 2] = [Channel::Sms, Channel::SmsLink];

    /// Its name: `sms`, `sms_link`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::SmsLink => "sms_link",
        }
    }

    /// The placeholder that carries this channel's secret.
    fn secret_placeholder(self) -> Placeholder {
        match self {
            Channel::Sms => Placeholder::Code,
            Channel::SmsLink => Placeholder::Link,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = TemplateError;

    /// `sms` or `sms_link`.
    fn from_str(text: &str) -> Result<Channel, TemplateError> {
        match text {
            "sms" => Ok(Channel::Sms),
            "sms_link" => Ok(Channel::SmsLink),
            _ => Err(TemplateError::Channel {
                value: text.to_owned(),
            }),
        }
    }
}

/// The secret part of a text: the code, or the link (URL with its one-time token).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Secret<'a> {
    /// A code, for [`Channel::Sms`].
    Code(&'a str),
    /// A link, for [`Channel::SmsLink`].
    Link(&'a str),
}

impl Secret<'_> {
    fn value(&self) -> &str {
        match self {
            Secret::Code(s) | Secret::Link(s) => s,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Secret::Code(_) => "code",
            Secret::Link(_) => "link",
        }
    }
}

impl fmt::Debug for Secret<'_> {
    /// The kind and length only: the value is a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Secret::{}({} chars)",
            self.kind(),
            self.value().chars().count()
        )
    }
}

/// A rendered message.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The text to send.
    pub text: String,
    /// The same text with every character of the secret replaced by `*` (same number of
    /// characters), for logs and events.
    pub masked: String,
}

impl fmt::Debug for Rendered {
    /// The masked text only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendered")
            .field("masked", &self.masked)
            .finish_non_exhaustive()
    }
}

/// Why a template was refused or a text could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A placeholder that does not exist.
    #[error(
        "template {locale}/{channel}: unknown placeholder {{{name}}} \
         (allowed: {{code}}, {{link}}, {{minutes}}, {{service}})"
    )]
    Placeholder {
        /// The template's locale.
        locale: Locale,
        /// The template's channel.
        channel: Channel,
        /// The name between the braces.
        name: String,
    },
    /// A secret placeholder of the other channel (`{link}` in an SMS code template,
    /// `{code}` in a link template).
    #[error("template {locale}/{channel}: {{{name}}} does not belong in a {channel} template")]
    WrongChannel {
        /// The template's locale.
        locale: Locale,
        /// The template's channel.
        channel: Channel,
        /// The placeholder.
        name: &'static str,
    },
    /// The channel's secret placeholder is missing or repeated.
    #[error("template {locale}/{channel}: {{{name}}} must appear exactly once, found {count}")]
    SecretCount {
        /// The template's locale.
        locale: Locale,
        /// The template's channel.
        channel: Channel,
        /// `code` or `link`.
        name: &'static str,
        /// How many times it appears.
        count: usize,
    },
    /// A `{` without its `}`.
    #[error("template {locale}/{channel}: a `{{` is not closed (write `{{{{` for a brace)")]
    Unclosed {
        /// The template's locale.
        locale: Locale,
        /// The template's channel.
        channel: Channel,
    },
    /// The secret given to render is not the channel's kind.
    #[error("template {locale}/{channel}: given a {given}, a {channel} message takes a {wanted}")]
    SecretKind {
        /// The locale rendered.
        locale: Locale,
        /// The channel rendered.
        channel: Channel,
        /// `code` or `link`: what was given.
        given: &'static str,
        /// `code` or `link`: what the channel takes.
        wanted: &'static str,
    },
    /// The origin is not a bare host name.
    #[error("origin {origin:?}: {reason}")]
    Origin {
        /// The origin given.
        origin: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The rendered text does not fit one SMS segment.
    #[error(
        "template {locale}/{channel}: the text takes {len} {} in {encoding}, one SMS holds {max}",
        if *encoding == "UCS-2" { "UTF-16 units" } else { "septets" }
    )]
    TooLong {
        /// The locale rendered.
        locale: Locale,
        /// The channel rendered.
        channel: Channel,
        /// `"GSM 7-bit"` or `"UCS-2"`.
        encoding: &'static str,
        /// Its length: septets (GSM 7-bit) or UTF-16 code units (UCS-2).
        len: usize,
        /// The most one segment holds: 160 or 70.
        max: usize,
    },
    /// Not a locale this service has texts for.
    #[error("locale {value:?}: expected ja or en (ja-JP, en-US and the like also work)")]
    Locale {
        /// The value given.
        value: String,
    },
    /// Not a channel.
    #[error("channel {value:?}: expected sms or sms_link")]
    Channel {
        /// The value given.
        value: String,
    },
}

/// The built-in texts. Japanese ones fit 70 UCS-2 units with a 10-character service, a
/// 10-digit code, 10 minutes and an origin line such as `@example.com #1234567890`.
const BUILT_IN: [(Locale, Channel, &str); 4] = [
    (
        Locale::Ja,
        Channel::Sms,
        "{service} 認証コード：{code}\n{minutes}分有効。共有しないでください",
    ),
    (
        Locale::En,
        Channel::Sms,
        "{service} code: {code}. Valid {minutes} min. Do not share it.",
    ),
    (
        Locale::Ja,
        Channel::SmsLink,
        "{service} 本人確認: {link} ({minutes}分有効)",
    ),
    (
        Locale::En,
        Channel::SmsLink,
        "{service} verification: {link} (valid {minutes} min)",
    ),
];

/// The link length [`Templates::check`] renders link templates with: longer links are
/// the caller's to keep short.
pub const CHECK_LINK_LEN: usize = 40;

/// The validity in whole minutes, rounded up (90 s → 2), as `{minutes}` shows it.
pub fn whole_minutes(validity: Duration) -> u64 {
    let secs = validity.as_secs() + u64::from(validity.subsec_nanos() > 0);
    secs.div_ceil(60)
}

/// One template per (locale, channel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    ja_sms: String,
    en_sms: String,
    ja_link: String,
    en_link: String,
}

impl Default for Templates {
    /// The built-in texts.
    fn default() -> Self {
        let mut templates = Templates {
            ja_sms: String::new(),
            en_sms: String::new(),
            ja_link: String::new(),
            en_link: String::new(),
        };
        for (locale, channel, text) in BUILT_IN {
            text.clone_into(templates.slot_mut(locale, channel));
        }
        templates
    }
}

impl Templates {
    /// Replaces one template after checking its placeholders: only `{code}`, `{link}`,
    /// `{minutes}` and `{service}`; an SMS template has `{code}` exactly once and no
    /// `{link}`, a link template `{link}` exactly once and no `{code}`.
    ///
    /// # Errors
    /// [`TemplateError::Placeholder`], [`TemplateError::WrongChannel`],
    /// [`TemplateError::SecretCount`], [`TemplateError::Unclosed`].
    pub fn set(
        &mut self,
        locale: Locale,
        channel: Channel,
        template: &str,
    ) -> Result<(), TemplateError> {
        parse(locale, channel, template)?;
        template.clone_into(self.slot_mut(locale, channel));
        Ok(())
    }

    /// The template for this locale and channel.
    pub fn get(&self, locale: Locale, channel: Channel) -> &str {
        match (locale, channel) {
            (Locale::Ja, Channel::Sms) => &self.ja_sms,
            (Locale::En, Channel::Sms) => &self.en_sms,
            (Locale::Ja, Channel::SmsLink) => &self.ja_link,
            (Locale::En, Channel::SmsLink) => &self.en_link,
        }
    }

    /// Renders a message. `secret` must be a [`Secret::Code`] for [`Channel::Sms`] and a
    /// [`Secret::Link`] for [`Channel::SmsLink`]; `minutes` is the validity in whole
    /// minutes (see [`whole_minutes`]); `service` may be empty; `origin` adds the
    /// origin-bound last line `@{origin} #{code}` to SMS code messages (ignored for links).
    ///
    /// # Errors
    /// [`TemplateError::SecretKind`], [`TemplateError::Origin`],
    /// [`TemplateError::TooLong`] if the text does not fit one segment, and the
    /// template errors of [`Templates::set`].
    pub fn render(
        &self,
        locale: Locale,
        channel: Channel,
        secret: Secret<'_>,
        minutes: u64,
        service: &str,
        origin: Option<&str>,
    ) -> Result<Rendered, TemplateError> {
        let wanted = match channel {
            Channel::Sms => "code",
            Channel::SmsLink => "link",
        };
        if secret.kind() != wanted {
            return Err(TemplateError::SecretKind {
                locale,
                channel,
                given: secret.kind(),
                wanted,
            });
        }
        let origin = match (channel, origin) {
            (Channel::Sms, Some(origin)) => Some(check_origin(origin)?),
            _ => None,
        };
        let pieces = parse(locale, channel, self.get(locale, channel))?;
        let minutes = minutes.to_string();
        let value = secret.value();
        let stars: String = value.chars().map(|_| '*').collect();
        let text = fill(&pieces, value, &minutes, service, origin);
        let masked = fill(&pieces, &stars, &minutes, service, origin);
        let (encoding, len, max) = measure(&text);
        if len > max {
            return Err(TemplateError::TooLong {
                locale,
                channel,
                encoding,
                len,
                max,
            });
        }
        Ok(Rendered { text, masked })
    }

    /// Checks that every template renders within one segment in the worst case the
    /// configuration allows: a code of `max_code_len` digits, a link of
    /// [`CHECK_LINK_LEN`] characters, `max_minutes`, this `service` and `origin`.
    ///
    /// # Errors
    /// The first [`Templates::render`] error.
    pub fn check(
        &self,
        service: &str,
        origin: Option<&str>,
        max_code_len: usize,
        max_minutes: u64,
    ) -> Result<(), TemplateError> {
        let code = "8".repeat(max_code_len);
        let link = worst_link();
        for locale in Locale::ALL {
            for channel in Channel::ALL {
                let secret = match channel {
                    Channel::Sms => Secret::Code(&code),
                    Channel::SmsLink => Secret::Link(&link),
                };
                self.render(locale, channel, secret, max_minutes, service, origin)?;
            }
        }
        Ok(())
    }

    fn slot_mut(&mut self, locale: Locale, channel: Channel) -> &mut String {
        match (locale, channel) {
            (Locale::Ja, Channel::Sms) => &mut self.ja_sms,
            (Locale::En, Channel::Sms) => &mut self.en_sms,
            (Locale::Ja, Channel::SmsLink) => &mut self.ja_link,
            (Locale::En, Channel::SmsLink) => &mut self.en_link,
        }
    }
}

/// A link of [`CHECK_LINK_LEN`] characters, all in the GSM alphabet as URLs are.
fn worst_link() -> String {
    let mut link = String::from("https://example.com/v/");
    while link.chars().count() < CHECK_LINK_LEN {
        link.push('x');
    }
    link
}

/// A placeholder of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholder {
    Code,
    Link,
    Minutes,
    Service,
}

impl Placeholder {
    fn name(self) -> &'static str {
        match self {
            Placeholder::Code => "code",
            Placeholder::Link => "link",
            Placeholder::Minutes => "minutes",
            Placeholder::Service => "service",
        }
    }
}

/// A piece of a parsed template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'t> {
    Text(&'t str),
    Slot(Placeholder),
}

/// Splits a template into text and placeholders and checks them (see [`Templates::set`]).
fn parse<'t>(
    locale: Locale,
    channel: Channel,
    template: &'t str,
) -> Result<Vec<Piece<'t>>, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        let (before, from) = rest.split_at(at);
        if !before.is_empty() {
            pieces.push(Piece::Text(before));
        }
        if let Some(after) = from.strip_prefix("{{") {
            pieces.push(Piece::Text("{"));
            rest = after;
        } else if let Some(after) = from.strip_prefix("}}") {
            pieces.push(Piece::Text("}"));
            rest = after;
        } else if let Some(after) = from.strip_prefix('}') {
            // A lone `}` is plain text.
            pieces.push(Piece::Text("}"));
            rest = after;
        } else {
            let inner = from.get(1..).unwrap_or_default();
            let Some(end) = inner.find('}') else {
                return Err(TemplateError::Unclosed { locale, channel });
            };
            let (name, after) = inner.split_at(end);
            let slot = match name {
                "code" => Placeholder::Code,
                "link" => Placeholder::Link,
                "minutes" => Placeholder::Minutes,
                "service" => Placeholder::Service,
                _ => {
                    return Err(TemplateError::Placeholder {
                        locale,
                        channel,
                        name: name.to_owned(),
                    })
                }
            };
            pieces.push(Piece::Slot(slot));
            rest = after.get(1..).unwrap_or_default();
        }
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    let wanted = channel.secret_placeholder();
    let other = match wanted {
        Placeholder::Code => Placeholder::Link,
        _ => Placeholder::Code,
    };
    if pieces.contains(&Piece::Slot(other)) {
        return Err(TemplateError::WrongChannel {
            locale,
            channel,
            name: other.name(),
        });
    }
    let count = pieces.iter().filter(|p| **p == Piece::Slot(wanted)).count();
    if count != 1 {
        return Err(TemplateError::SecretCount {
            locale,
            channel,
            name: wanted.name(),
            count,
        });
    }
    Ok(pieces)
}

/// The text of `pieces` with the values put in, and the origin line if any.
fn fill(
    pieces: &[Piece<'_>],
    secret: &str,
    minutes: &str,
    service: &str,
    origin: Option<&str>,
) -> String {
    let mut out = String::new();
    // Set when an empty {service} was dropped at the start or after a non-space: the
    // space that followed it goes too.
    let mut drop_space = false;
    for piece in pieces {
        let mut text = match piece {
            Piece::Text(text) => *text,
            Piece::Slot(Placeholder::Code | Placeholder::Link) => secret,
            Piece::Slot(Placeholder::Minutes) => minutes,
            Piece::Slot(Placeholder::Service) if service.is_empty() => {
                if out.ends_with(' ') {
                    out.pop();
                } else {
                    drop_space = true;
                }
                continue;
            }
            Piece::Slot(Placeholder::Service) => service,
        };
        if std::mem::take(&mut drop_space) {
            text = text.strip_prefix(' ').unwrap_or(text);
        }
        out.push_str(text);
    }
    if let Some(origin) = origin {
        // The origin-bound line must be the last one.
        let body = out.trim_end_matches(['\n', '\r']).len();
        out.truncate(body);
        out.push_str("\n@");
        out.push_str(origin);
        out.push_str(" #");
        out.push_str(secret);
    }
    out
}

/// The encoding a text goes in, its length in that encoding's units, and one segment's
/// capacity (see the module doc).
fn measure(text: &str) -> (&'static str, usize, usize) {
    match gsm7::septet_len(text) {
        Some(septets) => ("GSM 7-bit", septets, Encoding::Gsm7.single_capacity()),
        None => (
            "UCS-2",
            ucs2::unit_len(text),
            Encoding::Ucs2.single_capacity(),
        ),
    }
}

/// Checks an origin: a host name (`example.com`, `login.example.co.jp`), optionally with
/// a port, no scheme, no path.
fn check_origin(origin: &str) -> Result<&str, TemplateError> {
    let refuse = |reason| {
        Err(TemplateError::Origin {
            origin: origin.to_owned(),
            reason,
        })
    };
    let (host, port) = match origin.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (origin, None),
    };
    if host.is_empty() || host.len() > 253 {
        return refuse("expected a host name such as example.com");
    }
    if !host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    }) {
        return refuse(
            "expected a host name such as example.com (letters, digits, '-' and '.'; \
             no scheme or path; punycode for other scripts)",
        );
    }
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
            return refuse("the port after ':' must be digits");
        }
    }
    Ok(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE10: &str = "ABCDEFGHIJ";
    const CODE10: &str = "1234567890";
    const ORIGIN: &str = "example.com";

    fn render(
        t: &Templates,
        locale: Locale,
        channel: Channel,
        secret: Secret<'_>,
        service: &str,
        origin: Option<&str>,
    ) -> Result<Rendered, TemplateError> {
        t.render(locale, channel, secret, 10, service, origin)
    }

    #[test]
    fn built_ins_render_and_fit_in_the_worst_case() {
        let t = Templates::default();
        let link = worst_link();
        for locale in Locale::ALL {
            let sms = render(
                &t,
                locale,
                Channel::Sms,
                Secret::Code(CODE10),
                SERVICE10,
                Some(ORIGIN),
            )
            .unwrap();
            assert!(sms.text.starts_with(SERVICE10), "{}", sms.text);
            assert!(sms.text.contains(CODE10), "{}", sms.text);
            assert!(sms.text.contains("10"), "{}", sms.text);
            assert!(
                sms.text.ends_with("\n@example.com #1234567890"),
                "{}",
                sms.text
            );
            let (_, len, max) = measure(&sms.text);
            assert!(len <= max, "{locale}: {len} > {max}: {}", sms.text);
            let linked = render(
                &t,
                locale,
                Channel::SmsLink,
                Secret::Link(&link),
                SERVICE10,
                None,
            )
            .unwrap();
            assert!(linked.text.contains(&link), "{}", linked.text);
            assert!(!linked.text.contains('@'), "{}", linked.text);
        }
        t.check(SERVICE10, Some(ORIGIN), 10, 10).unwrap();
        t.check("", None, 10, 10).unwrap();
    }

    #[test]
    fn built_in_texts_are_what_the_module_promises() {
        let t = Templates::default();
        let ja = render(
            &t,
            Locale::Ja,
            Channel::Sms,
            Secret::Code(CODE10),
            SERVICE10,
            Some(ORIGIN),
        )
        .unwrap();
        assert_eq!(
            ja.text,
            "ABCDEFGHIJ 認証コード：1234567890\n10分有効。共有しないでください\n@example.com #1234567890"
        );
        // Japanese goes as UCS-2, within 70 units.
        assert_eq!(measure(&ja.text), ("UCS-2", 69, 70));
        let en = render(
            &t,
            Locale::En,
            Channel::Sms,
            Secret::Code("123456"),
            "Acme",
            None,
        )
        .unwrap();
        assert_eq!(en.text, "Acme code: 123456. Valid 10 min. Do not share it.");
        assert_eq!(measure(&en.text).0, "GSM 7-bit");
        let link = render(
            &t,
            Locale::En,
            Channel::SmsLink,
            Secret::Link("https://a.example/v/T0k"),
            "Acme",
            None,
        )
        .unwrap();
        assert_eq!(
            link.text,
            "Acme verification: https://a.example/v/T0k (valid 10 min)"
        );
        for locale in Locale::ALL {
            for channel in Channel::ALL {
                parse(locale, channel, t.get(locale, channel)).unwrap();
            }
        }
    }

    #[test]
    fn empty_service_drops_cleanly() {
        let t = Templates::default();
        let en = render(
            &t,
            Locale::En,
            Channel::Sms,
            Secret::Code("123456"),
            "",
            None,
        )
        .unwrap();
        assert_eq!(en.text, "code: 123456. Valid 10 min. Do not share it.");
        let ja = render(
            &t,
            Locale::Ja,
            Channel::SmsLink,
            Secret::Link("https://e.jp/x"),
            "",
            None,
        )
        .unwrap();
        assert_eq!(ja.text, "本人確認: https://e.jp/x (10分有効)");
        // In the middle or at the end: one neighbouring space goes with it.
        let mut t = Templates::default();
        t.set(Locale::En, Channel::Sms, "Your {service} code {code}")
            .unwrap();
        let mid = render(&t, Locale::En, Channel::Sms, Secret::Code("1"), "", None).unwrap();
        assert_eq!(mid.text, "Your code 1");
        t.set(
            Locale::En,
            Channel::Sms,
            "{code} is your code for {service}",
        )
        .unwrap();
        let end = render(&t, Locale::En, Channel::Sms, Secret::Code("1"), "", None).unwrap();
        assert_eq!(end.text, "1 is your code for");
    }

    #[test]
    fn masked_hides_every_character_of_the_secret() {
        let t = Templates::default();
        for locale in Locale::ALL {
            let r = render(
                &t,
                locale,
                Channel::Sms,
                Secret::Code("987654"),
                "Acme",
                Some(ORIGIN),
            )
            .unwrap();
            assert!(r.text.contains("987654"));
            assert!(r.masked.contains("******"), "{}", r.masked);
            assert!(!r.masked.contains("987654"), "{}", r.masked);
            assert!(r.masked.ends_with("\n@example.com #******"), "{}", r.masked);
            assert_eq!(r.masked.chars().count(), r.text.chars().count());
            // Outside the secret the texts are the same.
            let differ: Vec<(char, char)> = r
                .text
                .chars()
                .zip(r.masked.chars())
                .filter(|(a, b)| a != b)
                .collect();
            assert_eq!(differ.len(), 12, "{differ:?}");
            assert!(differ.iter().all(|(a, b)| a.is_ascii_digit() && *b == '*'));
            assert!(!format!("{r:?}").contains("987654"));
        }
        let link = "https://e.example/v/Ab3-xyz";
        let r = render(
            &t,
            Locale::En,
            Channel::SmsLink,
            Secret::Link(link),
            "Acme",
            None,
        )
        .unwrap();
        assert!(!r.masked.contains("Ab3"), "{}", r.masked);
        assert!(r.masked.contains(&"*".repeat(link.len())), "{}", r.masked);
        assert_eq!(r.masked.chars().count(), r.text.chars().count());
    }

    #[test]
    fn origin_line_only_for_sms_codes() {
        let t = Templates::default();
        let link = render(
            &t,
            Locale::En,
            Channel::SmsLink,
            Secret::Link("https://example.com/v/t"),
            "Acme",
            Some(ORIGIN),
        )
        .unwrap();
        assert!(!link.text.contains("#"), "{}", link.text);
        assert!(!link.text.contains('\n'), "{}", link.text);
        let none = render(
            &t,
            Locale::En,
            Channel::Sms,
            Secret::Code("42"),
            "Acme",
            None,
        )
        .unwrap();
        assert!(!none.text.contains('@'));
        // A template ending in a newline still gets exactly one line break before it.
        let mut t = Templates::default();
        t.set(Locale::En, Channel::Sms, "Code {code}\n\n").unwrap();
        let r = render(
            &t,
            Locale::En,
            Channel::Sms,
            Secret::Code("42"),
            "",
            Some("login.example.co.jp:8443"),
        )
        .unwrap();
        assert_eq!(r.text, "Code 42\n@login.example.co.jp:8443 #42");
    }

    #[test]
    fn bad_origins_are_refused() {
        let t = Templates::default();
        for origin in [
            "",
            "https://example.com",
            "example.com/path",
            "@example.com",
            "exa mple.com",
            "a..b",
            "-a.com",
            "例え.jp",
            "a.com:",
            "a.com:x1",
        ] {
            match render(
                &t,
                Locale::En,
                Channel::Sms,
                Secret::Code("1"),
                "",
                Some(origin),
            ) {
                Err(TemplateError::Origin { origin: o, .. }) => assert_eq!(o, origin),
                other => panic!("{origin:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn gsm_or_ucs2_decides_the_limit() {
        let mut t = Templates::default();
        // 150 GSM characters + a 10-digit code = 160 septets: fits exactly.
        let base = "a".repeat(150);
        t.set(Locale::En, Channel::Sms, &format!("{base}{{code}}"))
            .unwrap();
        let r = render(&t, Locale::En, Channel::Sms, Secret::Code(CODE10), "", None).unwrap();
        assert_eq!(measure(&r.text), ("GSM 7-bit", 160, 160));
        // An extension character (€) counts two septets: 161.
        t.set(
            Locale::En,
            Channel::Sms,
            &format!("{}€{{code}}", &base[1..]),
        )
        .unwrap();
        assert_eq!(
            render(&t, Locale::En, Channel::Sms, Secret::Code(CODE10), "", None),
            Err(TemplateError::TooLong {
                locale: Locale::En,
                channel: Channel::Sms,
                encoding: "GSM 7-bit",
                len: 161,
                max: 160
            })
        );
        // One character outside GSM (ç; Ç is in it) makes the whole text UCS-2: 70 units.
        t.set(
            Locale::En,
            Channel::Sms,
            &format!("{}ç{{code}}", "a".repeat(59)),
        )
        .unwrap();
        let r = render(&t, Locale::En, Channel::Sms, Secret::Code(CODE10), "", None).unwrap();
        assert_eq!(measure(&r.text), ("UCS-2", 70, 70));
        t.set(
            Locale::En,
            Channel::Sms,
            &format!("{}Ç{{code}}", "a".repeat(59)),
        )
        .unwrap();
        let r = render(&t, Locale::En, Channel::Sms, Secret::Code(CODE10), "", None).unwrap();
        assert_eq!(measure(&r.text).0, "GSM 7-bit");
        // The service's characters count too: an emoji is two UTF-16 units.
        let err = Templates::default()
            .render(
                Locale::En,
                Channel::Sms,
                Secret::Code(CODE10),
                10,
                &format!("Shop{}", "😀".repeat(10)),
                None,
            )
            .unwrap_err();
        assert!(
            matches!(
                err,
                TemplateError::TooLong {
                    encoding: "UCS-2",
                    max: 70,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn too_long_is_reported_with_its_figures() {
        let t = Templates::default();
        let service = "株式会社サンプルサービス本人確認センター";
        let err = render(
            &t,
            Locale::Ja,
            Channel::Sms,
            Secret::Code(CODE10),
            service,
            Some(ORIGIN),
        )
        .unwrap_err();
        match &err {
            TemplateError::TooLong {
                locale,
                channel,
                encoding,
                len,
                max,
            } => {
                assert_eq!(
                    (*locale, *channel, *encoding, *max),
                    (Locale::Ja, Channel::Sms, "UCS-2", 70)
                );
                assert_eq!(*len, 69 - 10 + service.chars().count());
            }
            other => panic!("{other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains("ja/sms") && message.contains("UCS-2") && message.contains("70"),
            "{message}"
        );
        // check() finds it too, and a long enough code breaks the English one.
        assert!(matches!(
            t.check(service, Some(ORIGIN), 10, 10),
            Err(TemplateError::TooLong { .. })
        ));
        assert!(matches!(
            t.check("", None, 120, 10),
            Err(TemplateError::TooLong {
                locale: Locale::Ja,
                channel: Channel::Sms,
                ..
            })
        ));
    }

    #[test]
    fn placeholders_are_checked_on_set() {
        let mut t = Templates::default();
        let before = t.clone();
        assert_eq!(
            t.set(Locale::En, Channel::Sms, "{code} for {user}"),
            Err(TemplateError::Placeholder {
                locale: Locale::En,
                channel: Channel::Sms,
                name: "user".into()
            })
        );
        assert_eq!(
            t.set(Locale::Ja, Channel::Sms, "{Code}"),
            Err(TemplateError::Placeholder {
                locale: Locale::Ja,
                channel: Channel::Sms,
                name: "Code".into()
            })
        );
        assert_eq!(
            t.set(Locale::En, Channel::Sms, "Your code, valid {minutes} min"),
            Err(TemplateError::SecretCount {
                locale: Locale::En,
                channel: Channel::Sms,
                name: "code",
                count: 0
            })
        );
        assert_eq!(
            t.set(Locale::En, Channel::Sms, "{code} {code}"),
            Err(TemplateError::SecretCount {
                locale: Locale::En,
                channel: Channel::Sms,
                name: "code",
                count: 2
            })
        );
        assert_eq!(
            t.set(Locale::En, Channel::SmsLink, "Open {link} or type {code}"),
            Err(TemplateError::WrongChannel {
                locale: Locale::En,
                channel: Channel::SmsLink,
                name: "code"
            })
        );
        assert_eq!(
            t.set(Locale::En, Channel::Sms, "{code} {link}"),
            Err(TemplateError::WrongChannel {
                locale: Locale::En,
                channel: Channel::Sms,
                name: "link"
            })
        );
        assert_eq!(
            t.set(Locale::En, Channel::Sms, "{code} {minutes"),
            Err(TemplateError::Unclosed {
                locale: Locale::En,
                channel: Channel::Sms
            })
        );
        let message = t
            .set(Locale::En, Channel::Sms, "{code} {user}")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("{user}") && message.contains("en/sms"),
            "{message}"
        );
        assert_eq!(t, before, "a refused template changes nothing");
        // Escaped braces are text; a lone `}` too.
        t.set(Locale::En, Channel::Sms, "{{{code}}} }").unwrap();
        let r = render(&t, Locale::En, Channel::Sms, Secret::Code("42"), "", None).unwrap();
        assert_eq!(r.text, "{42} }");
        assert_eq!(t.get(Locale::En, Channel::Sms), "{{{code}}} }");
    }

    #[test]
    fn the_secret_must_match_the_channel() {
        let t = Templates::default();
        assert_eq!(
            render(
                &t,
                Locale::En,
                Channel::Sms,
                Secret::Link("https://x"),
                "",
                None
            ),
            Err(TemplateError::SecretKind {
                locale: Locale::En,
                channel: Channel::Sms,
                given: "link",
                wanted: "code"
            })
        );
        assert!(matches!(
            render(
                &t,
                Locale::Ja,
                Channel::SmsLink,
                Secret::Code("1"),
                "",
                None
            ),
            Err(TemplateError::SecretKind {
                given: "code",
                wanted: "link",
                ..
            })
        ));
        assert_eq!(
            format!("{:?}", Secret::Code("987654")),
            "Secret::code(6 chars)"
        );
    }

    #[test]
    fn service_text_is_not_a_template() {
        let t = Templates::default();
        let r = render(
            &t,
            Locale::En,
            Channel::Sms,
            Secret::Code("1"),
            "{code}",
            None,
        )
        .unwrap();
        assert!(r.text.starts_with("{code} code: 1."), "{}", r.text);
    }

    #[test]
    fn locale_and_channel_parse_print_and_serde() {
        for (text, locale) in [
            ("ja", Locale::Ja),
            ("en", Locale::En),
            ("ja-JP", Locale::Ja),
            ("en-US", Locale::En),
            ("EN_gb", Locale::En),
            ("ja-Jpan-JP", Locale::Ja),
        ] {
            assert_eq!(text.parse::<Locale>().unwrap(), locale, "{text}");
        }
        for bad in ["", "fr", "jp", "ja-", "en--US", "ja JP", "english"] {
            assert_eq!(
                bad.parse::<Locale>(),
                Err(TemplateError::Locale { value: bad.into() }),
                "{bad}"
            );
        }
        assert_eq!(Locale::default(), Locale::Ja);
        assert_eq!(Locale::Ja.to_string(), "ja");
        assert_eq!(Locale::En.to_string(), "en");
        assert_eq!("sms".parse::<Channel>().unwrap(), Channel::Sms);
        assert_eq!("sms_link".parse::<Channel>().unwrap(), Channel::SmsLink);
        assert!("link".parse::<Channel>().is_err());
        assert_eq!(Channel::SmsLink.to_string(), "sms_link");
        assert_eq!(serde_json::to_string(&Locale::Ja).unwrap(), "\"ja\"");
        assert_eq!(serde_json::to_string(&Locale::En).unwrap(), "\"en\"");
        assert_eq!(
            serde_json::from_str::<Locale>("\"en\"").unwrap(),
            Locale::En
        );
        assert!(serde_json::from_str::<Locale>("\"Ja\"").is_err());
        assert_eq!(serde_json::to_string(&Channel::Sms).unwrap(), "\"sms\"");
        assert_eq!(
            serde_json::to_string(&Channel::SmsLink).unwrap(),
            "\"sms_link\""
        );
        assert_eq!(
            serde_json::from_str::<Channel>("\"sms_link\"").unwrap(),
            Channel::SmsLink
        );
    }

    #[test]
    fn whole_minutes_round_up() {
        assert_eq!(whole_minutes(Duration::from_secs(0)), 0);
        assert_eq!(whole_minutes(Duration::from_secs(60)), 1);
        assert_eq!(whole_minutes(Duration::from_secs(61)), 2);
        assert_eq!(whole_minutes(Duration::from_secs(90)), 2);
        assert_eq!(whole_minutes(Duration::from_millis(600_001)), 11);
        assert_eq!(whole_minutes(Duration::from_secs(600)), 10);
    }
}
