//! Signed webhooks per API token: the dispatcher follows the outbox's event log from a
//! cursor kept in sled, turns each relevant event (a message's final state, every state
//! for a webhook with `intermediate`, a verification's outcome) into a delivery stored in
//! sled under a stable event id, and POSTs it to the token's URL, signed
//! (`Smsgate-Signature`, see [`sign`]). A 2xx acknowledges; a 5xx, a 429 (its
//! Retry-After honoured), a timeout or a failed connection is retried with exponential
//! backoff and full jitter until `max_age`; any other answer, or `max_age`, makes a dead
//! letter, kept in sled until it is replayed ([`WebhookHandle::replay`]).
//!
//! Delivery is at least once: a restart resends what was not acknowledged, and a final
//! state reported twice keeps its event id, so receivers deduplicate by
//! `Smsgate-Event-Id`. The plain parts ([`delivery`], [`payload`], [`sign`]) hold every
//! decision; [`dispatcher`] is the task that does the I/O.

pub mod delivery;
pub mod dispatcher;
pub mod payload;
pub mod sign;
pub mod store;

pub use delivery::{Delivery, Next, Outcome, RetryPolicy};
pub use dispatcher::{WebhookError, WebhookHandle, WebhookStats};

use crate::config::Config;
use secrecy::SecretString;
use std::collections::HashMap;
use std::time::Duration;

/// One token's receiver.
#[derive(Clone)]
pub struct Endpoint {
    /// Where to POST.
    pub url: hyper::Uri,
    /// The signing secret.
    pub secret: SecretString,
    /// Also the states before the final one.
    pub intermediate: bool,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("intermediate", &self.intermediate)
            .finish_non_exhaustive()
    }
}

/// What the dispatcher needs to start.
#[derive(Debug, Clone)]
pub struct WebhookSpec {
    /// Each token's receiver, by token name.
    pub endpoints: HashMap<String, Endpoint>,
    /// The retry schedule.
    pub retry: RetryPolicy,
    /// How long one POST may take.
    pub timeout: Duration,
    /// POSTs in progress at once.
    pub concurrency: usize,
}

/// Why a webhook could not be set up from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The URL does not parse (the configuration's check refuses this first).
    #[error("api.tokens[{index}].webhook.url: {reason}")]
    Url {
        /// The token's entry.
        index: usize,
        /// Why.
        reason: String,
    },
    /// No secret was loaded (a configuration not from [`Config::load`]).
    #[error("api.tokens[{0}].webhook: no signing secret was loaded")]
    Secret(usize),
}

impl WebhookSpec {
    /// From `[webhooks]` and the tokens' `webhook` tables; `None` when no token has one.
    ///
    /// # Errors
    /// [`SpecError`] for a webhook the configuration's checks would have refused.
    pub fn from_config(config: &Config) -> Result<Option<WebhookSpec>, SpecError> {
        let mut endpoints = HashMap::new();
        for (index, token) in config.api.tokens.iter().enumerate() {
            let Some(hook) = &token.webhook else {
                continue;
            };
            let url = hook
                .url
                .parse()
                .map_err(|e: hyper::http::uri::InvalidUri| SpecError::Url {
                    index,
                    reason: e.to_string(),
                })?;
            let secret = hook.secret().cloned().ok_or(SpecError::Secret(index))?;
            endpoints.insert(
                token.name.clone(),
                Endpoint {
                    url,
                    secret,
                    intermediate: hook.intermediate,
                },
            );
        }
        if endpoints.is_empty() {
            return Ok(None);
        }
        let w = &config.webhooks;
        Ok(Some(WebhookSpec {
            endpoints,
            retry: RetryPolicy::new(w.backoff_base, w.backoff_max, w.max_age),
            timeout: w.timeout,
            concurrency: w.concurrency,
        }))
    }
}
