//! `smsgate demo`: one command that shows a verification end to end. It starts the
//! embedded default in this process (the simulated SMSC, the gateway and the API) on free
//! ports with a temporary data directory, so it runs beside a gateway already running and
//! leaves nothing behind; then, as the backend, it starts a verification to a simulated
//! handset over the API, reads the SMS from the handset's inbox as the user would, checks
//! a wrong code and then the right one, waits for the delivery receipt, reads the status,
//! and shuts down in order. Each step is narrated in Japanese (default) or English, or
//! written as one JSON line with `--json`. Exit 0 when every step answered as expected,
//! 1 otherwise.
//!
//! The demo prints the code it read from the handset's inbox (it plays the user); the
//! gateway's own log stays at `warn` and never carries a code.

#[cfg(not(feature = "sim"))]
use crate::cli::CliError;
use clap::{Args, ValueEnum};

/// `smsgate demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// The language of the narration and of the SMS.
    #[arg(long, value_enum, default_value_t = Lang::Ja)]
    pub lang: Lang,
    /// One JSON object a line per step instead of the narration.
    #[arg(long)]
    pub json: bool,
}

/// The demo's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// 日本語.
    Ja,
    /// English.
    En,
}

/// Runs the demo: this build has no simulator to run it on.
#[cfg(not(feature = "sim"))]
pub fn demo(_: DemoArgs) -> Result<(), CliError> {
    Err(CliError::Start(
        "smsgate demo needs the built-in simulated SMSC: this build has none \
         (built without the sim feature)"
            .into(),
    ))
}

#[cfg(feature = "sim")]
pub use with_sim::demo;

#[cfg(feature = "sim")]
mod with_sim {
    use super::{DemoArgs, Lang};
    use crate::api::client::{Client, ClientError};
    use crate::api::proto::{EventBody, VerifyCheckResult, VerifyStartParams};
    use crate::api::server::{ApiServer, ServerSettings};
    use crate::cli::client::print_line;
    use crate::cli::{CliError, EXIT_IO};
    use crate::config::Config;
    use crate::gateway::Gateway;
    use crate::sim::RunningSim;
    use crate::verify::template::Locale;
    use secrecy::SecretString;
    use serde_json::{json, Value};
    use std::net::SocketAddr;
    use std::time::{Duration, Instant};

    /// The simulated handset, as a user writes the number.
    const HANDSET: &str = "+81 90-0000-0001";
    /// The embedded default's live development token.
    const TOKEN: &str = "smsgate-dev-token";
    /// The longest any one step may take before the demo gives up on it.
    const STEP: Duration = Duration::from_secs(15);

    /// Tells each step in the chosen language, or as a JSON line.
    struct Narrator {
        lang: Lang,
        json: bool,
    }

    impl Narrator {
        fn say(&self, step: &str, ja: &str, en: &str, facts: Value) -> Result<(), CliError> {
            if self.json {
                let mut line = json!({ "step": step });
                if let (Some(line), Value::Object(facts)) = (line.as_object_mut(), facts) {
                    line.extend(facts);
                }
                return print_line(&line.to_string());
            }
            print_line(match self.lang {
                Lang::Ja => ja,
                Lang::En => en,
            })
        }
    }

    /// A step that did not answer as expected: what happened instead.
    struct Unexpected(String);

    impl From<ClientError> for Unexpected {
        fn from(e: ClientError) -> Self {
            Unexpected(e.to_string())
        }
    }

    impl From<CliError> for Unexpected {
        fn from(e: CliError) -> Self {
            Unexpected(e.to_string())
        }
    }

    /// `fut`, or [`Unexpected`] naming `what` after [`STEP`].
    async fn within<T>(
        what: &str,
        fut: impl std::future::Future<Output = T>,
    ) -> Result<T, Unexpected> {
        tokio::time::timeout(STEP, fut)
            .await
            .map_err(|_| Unexpected(format!("no {what} within {} s", STEP.as_secs())))
    }

    /// Runs `smsgate demo`.
    pub fn demo(args: DemoArgs) -> Result<(), CliError> {
        let n = Narrator {
            lang: args.lang,
            json: args.json,
        };
        let mut config = Config::embedded_default().map_err(CliError::InvalidConfig)?;
        let dir = tempfile::Builder::new()
            .prefix("smsgate-demo-")
            .tempdir()
            .map_err(|e| CliError::Start(format!("a temporary data directory: {e}")))?;
        // The carriers bind to the simulator's configured address; they follow it to the
        // free port it gets.
        let binds_at = config.simulator.smpp_address;
        let free = SocketAddr::from(([127, 0, 0, 1], 0));
        config.data_dir = dir.path().to_path_buf();
        config.api.address = free;
        config.simulator.smpp_address = free;
        config.simulator.control_address = free;
        // Quiet: the narration is the output. RUST_LOG, when set, still wins.
        let _ = crate::telemetry::init_logging("warn", config.log.format);
        n.say(
            "starting",
            "smsgate デモ: 組み込みの既定構成（模擬SMSC付き）を空きポートで起動します。データは一時ディレクトリに置き、終了時に消します。",
            "smsgate demo: starting the embedded default (with its simulated SMSC) on free ports; its data goes to a temporary directory that is removed at the end.",
            json!({ "data_dir": dir.path().display().to_string() }),
        )?;
        let system = actix::System::new();
        let played = system.block_on(play(&n, config, binds_at, args.lang));
        let removed = dir.close();
        let ok = played?;
        if let Err(e) = removed {
            return Err(CliError::Start(format!(
                "the temporary data directory could not be removed: {e}"
            )));
        }
        if ok {
            Ok(())
        } else {
            Err(CliError::Reported(EXIT_IO))
        }
    }

    /// Starts the service, plays the steps and stops it; whether every step behaved.
    async fn play(
        n: &Narrator,
        mut config: Config,
        binds_at: SocketAddr,
        lang: Lang,
    ) -> Result<bool, CliError> {
        let sim = crate::sim::start_if_enabled(&mut config, binds_at)
            .await
            .map_err(CliError::Start)?
            .ok_or_else(|| CliError::Start("the embedded default runs no simulator".into()))?;
        let spec = match crate::wiring::spec(&config) {
            Ok(spec) => spec,
            Err(e) => {
                sim.stop().await;
                return Err(CliError::Start(e.to_string()));
            }
        };
        let gateway = match Gateway::start(spec).await {
            Ok(g) => g,
            Err(e) => {
                sim.stop().await;
                return Err(CliError::Start(e.to_string()));
            }
        };
        let api = ServerSettings::from_config(&config.api, Instant::now())
            .map_err(|e| e.to_string())
            .and_then(|s| {
                ApiServer::start(config.api.address, s, gateway.clone()).map_err(|e| e.to_string())
            });
        let api = match api {
            Ok(api) => api,
            Err(e) => {
                gateway.shutdown().await;
                sim.stop().await;
                return Err(CliError::Start(e));
            }
        };
        let addr = api.local_addr();
        n.say(
            "running",
            &format!(
                "起動しました: API {addr}、模擬SMSC {}（SMPP）。",
                sim.smpp_addr
            ),
            &format!(
                "Running: the API on {addr}, the simulated SMSC on {} (SMPP).",
                sim.smpp_addr
            ),
            json!({ "api": addr.to_string(), "smpp": sim.smpp_addr.to_string() }),
        )?;
        let steps = steps(n, &sim, addr, lang).await;
        api.stop().await;
        let report = gateway.shutdown().await;
        sim.stop().await;
        let ok = match steps {
            Ok(()) if report.flushed => true,
            Ok(()) => {
                n.say(
                    "unexpected",
                    "想定外: 停止時のフラッシュに失敗しました。",
                    "Unexpected: the final flush of the store failed.",
                    json!({ "why": "the final flush of the store failed" }),
                )?;
                false
            }
            Err(Unexpected(why)) => {
                n.say(
                    "unexpected",
                    &format!("想定外: {why}"),
                    &format!("Unexpected: {why}"),
                    json!({ "why": why }),
                )?;
                false
            }
        };
        if ok {
            n.say(
                "stopped",
                "停止しました（アンバインド、フラッシュ、一時ディレクトリの削除）。すべての手順が想定どおりでした。",
                "Stopped in order (unbound, flushed, the temporary directory removed). Every step behaved as expected.",
                json!({ "ok": true }),
            )?;
        }
        Ok(ok)
    }

    /// The code in an SMS: its longest run of digits (the minutes of validity are
    /// shorter than any code).
    fn code_in(text: &str) -> Option<String> {
        text.split(|c: char| !c.is_ascii_digit())
            .max_by_key(|run| run.len())
            .filter(|run| run.len() >= 4)
            .map(str::to_owned)
    }

    /// A code of the same length that differs from `code` in every digit.
    fn wrong(code: &str) -> String {
        code.chars()
            .map(|c| match c.to_digit(10) {
                Some(d) => char::from_digit((d + 1) % 10, 10).unwrap_or('0'),
                None => '0',
            })
            .collect()
    }

    fn expect(r: &VerifyCheckResult, status: &str) -> Result<(), Unexpected> {
        if r.status == status {
            Ok(())
        } else {
            Err(Unexpected(format!(
                "verify.check answered {} where {status} was expected",
                r.status
            )))
        }
    }

    async fn steps(
        n: &Narrator,
        sim: &RunningSim,
        addr: SocketAddr,
        lang: Lang,
    ) -> Result<(), Unexpected> {
        let client = within(
            "connection to the API",
            Client::connect(&addr.to_string(), &SecretString::from(TOKEN)),
        )
        .await??;
        let mut events = client.subscribe(0).await?;
        let params = VerifyStartParams {
            locale: Some(match lang {
                Lang::Ja => Locale::Ja,
                Lang::En => Locale::En,
            }),
            ..VerifyStartParams::new(HANDSET)
        };
        let started = within("answer to verify.start", client.verify_start(&params)).await??;
        let id = started.verification_id.clone();
        let message = started.message_id.clone().unwrap_or_default();
        n.say(
            "started",
            &format!(
                "1. バックエンドとして認証を開始します（verify.start、宛先 {HANDSET}、用途 login）: 認証ID {id}、コードのSMS（メッセージ {message}）を送信キューに入れました。"
            ),
            &format!(
                "1. As the backend, start a verification (verify.start to {HANDSET}, purpose login): verification {id}; the code's SMS (message {message}) is queued."
            ),
            json!({ "verification_id": id, "message_id": message, "to": started.to }),
        )?;

        let inbox = within(
            "SMS at the simulated handset",
            sim.handle().wait_for_inbox(&started.to, 1),
        )
        .await?;
        let text = inbox.last().map(|m| m.text.clone()).unwrap_or_default();
        let code =
            code_in(&text).ok_or_else(|| Unexpected(format!("no code in the SMS {text:?}")))?;
        n.say(
            "sms_received",
            &format!(
                "2. 利用者の端末（模擬SMSCの受信箱）にSMSが届きました:\n   「{}」\n   コードは {code} です。",
                text.replace('\n', " ")
            ),
            &format!(
                "2. The user's handset (the simulated SMSC's inbox) got the SMS:\n   \"{}\"\n   The code is {code}.",
                text.replace('\n', " ")
            ),
            json!({ "text": text, "code": code }),
        )?;

        let bad = wrong(&code);
        let r = within(
            "answer to verify.check",
            client.verify_check(&id, &SecretString::from(bad.clone())),
        )
        .await??;
        expect(&r, "wrong")?;
        let left = r.attempts_left.unwrap_or_default();
        n.say(
            "check_wrong",
            &format!("3. まず打ち間違えたコード {bad} を確認します（verify.check）: 結果は wrong、残り {left} 回。"),
            &format!("3. First a mistyped code, {bad} (verify.check): wrong, {left} attempt(s) left."),
            json!({ "code": bad, "status": r.status, "attempts_left": left }),
        )?;

        let r = within(
            "answer to verify.check",
            client.verify_check(&id, &SecretString::from(code.clone())),
        )
        .await??;
        expect(&r, "approved")?;
        n.say(
            "check_right",
            &format!("4. 正しいコード {code} を確認します: 結果は approved（認証成功）。"),
            &format!("4. Then the right code, {code}: approved."),
            json!({ "code": code, "status": r.status }),
        )?;

        let r = within(
            "answer to verify.check",
            client.verify_check(&id, &SecretString::from(code.clone())),
        )
        .await??;
        expect(&r, "not_found")?;
        n.say(
            "check_again",
            "5. 同じコードをもう一度確認すると not_found: 一度使ったコードは二度と通りません。",
            "5. The same code once more: not_found. A code works once.",
            json!({ "status": r.status }),
        )?;

        // The message's final event (its receipt) and the verification's outcome, from
        // the subscription opened before the start: nothing is missed, nothing polled.
        let (state, outcome) = within("delivery receipt", async {
            let mut state = None;
            let mut outcome = None;
            while state.is_none() || outcome.is_none() {
                match events.next().await?.event {
                    EventBody::Message {
                        message_id,
                        state: s,
                        is_final: true,
                        ..
                    } if message_id == message => state = Some(s),
                    EventBody::Verification {
                        verification_id,
                        status,
                        ..
                    } if verification_id == id => outcome = Some(status),
                    _ => {}
                }
            }
            Ok::<_, ClientError>((state.unwrap_or_default(), outcome.unwrap_or_default()))
        })
        .await??;
        if state != "delivered" {
            return Err(Unexpected(format!(
                "message {message} ended {state}, not delivered"
            )));
        }
        n.say(
            "receipt",
            &format!("6. 配信レシート（送達結果）が届きました: メッセージ {message} は delivered（端末に配信済み）。イベントストリームには verification {outcome} も流れています。"),
            &format!("6. The delivery receipt came: message {message} is delivered (the handset has it). The event stream also carried verification {outcome}."),
            json!({ "message_id": message, "state": state, "verification_event": outcome }),
        )?;

        let s = within("answer to verify.status", client.verify_status(&id)).await??;
        let delivery = s.delivery.clone().unwrap_or_default();
        if s.status != "approved" || delivery != "delivered" {
            return Err(Unexpected(format!(
                "verify.status answered {} with delivery {delivery:?}, not approved and delivered",
                s.status
            )));
        }
        n.say(
            "status",
            &format!(
                "7. verify.status: 状態 {}、配信 {delivery}、残り確認回数 {}、送信 {} 回。",
                s.status, s.attempts_left, s.sends
            ),
            &format!(
                "7. verify.status: {}, delivery {delivery}, {} attempt(s) left, {} send(s).",
                s.status, s.attempts_left, s.sends
            ),
            json!({ "status": s.status, "delivery": delivery }),
        )?;
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_code_is_the_longest_digit_run_and_the_wrong_one_differs_everywhere() {
            assert_eq!(
                code_in("認証コード：042719\n10分有効。共有しないでください").as_deref(),
                Some("042719")
            );
            assert_eq!(
                code_in("code: 8812. Valid 10 min.").as_deref(),
                Some("8812")
            );
            assert_eq!(code_in("no code, 10 min"), None);
            let bad = wrong("042719");
            assert_eq!(bad, "153820");
            assert!(bad.chars().zip("042719".chars()).all(|(a, b)| a != b));
            assert_eq!(wrong("999"), "000");
        }
    }
}
