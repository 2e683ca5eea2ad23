//! Alert jobs: the pass over every rule every few minutes, and the delivery of the outbox's
//! webhooks, signed, retried with exponential backoff for a day, each attempt recorded.
//!
//! A delivery is claimed before it is sent (its next attempt moved a lease ahead), so two
//! servers, or one restarted mid-send, never send it at the same time; a receiver that must
//! not act twice on one notification can key on `X-Finishline-Delivery`.

use app::db::{Db, alert, now_ms};
use app::domain::alerting::is_internal_address;
use app::domain::status::DeliveryChannel;
use app::model::{AlertDelivery, DeliveryAttempt};
use app::service::alerts::WebhookPolicy;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How often the rules are checked.
pub const EVALUATE_EVERY: Duration = Duration::from_secs(120);
/// How often the outbox is read.
const DELIVER_EVERY: Duration = Duration::from_secs(3);
/// How long one attempt may take, connecting included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a claimed delivery is left alone before another server may try it.
const LEASE_MS: i64 = 60_000;
/// The first retry waits this long; each later one twice as long, up to an hour.
const FIRST_RETRY_MS: i64 = 30_000;
const LONGEST_RETRY_MS: i64 = 3_600_000;
/// Deliveries are retried for a day after they were written.
pub const RETRY_FOR_MS: i64 = 24 * 3_600_000;
/// Deliveries sent at once per pass.
const BATCH: i64 = 16;

/// Where notifications may go: the webhook policy, and the SMTP server for emails (none: emails
/// are given up with the reason).
#[derive(Clone, Debug, Default)]
pub struct Channels {
    pub webhooks: WebhookPolicy,
    pub smtp: Option<Smtp>,
}

/// An SMTP server, from the configuration only (its credentials never reach the database):
/// `smtps://user:pass@host:465`, `smtp://user:pass@host:587?tls=required` (STARTTLS), or
/// `smtp://host:25` (unencrypted, for a relay on the same machine).
#[derive(Clone, Debug)]
pub struct Smtp {
    pub url: String,
    /// The sender, e.g. `Finishline <finishline@example.com>`.
    pub from: String,
}

/// Every two minutes (and once shortly after start), evaluates every alert rule, first bringing
/// the rollups up to date so that each pass judges every batch acknowledged before it.
pub fn spawn_evaluation(db: Db, site: String) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let mut tick = tokio::time::interval(EVALUATE_EVERY);
        loop {
            tick.tick().await;
            match crate::jobs::in_turn(&db, "alerts", evaluate(&db, &site)).await {
                Ok(Some(Ok(pass))) if pass.fired + pass.resolved > 0 => tracing::info!(
                    rules = pass.rules,
                    fired = pass.fired,
                    resolved = pass.resolved,
                    "checked alert rules"
                ),
                Ok(Some(Err(err))) | Err(err) => {
                    tracing::warn!(error = ?err, "checking alert rules failed; will retry")
                }
                Ok(_) => {}
            }
        }
    });
}

/// One alert pass: the rollups brought up to date first, so the pass judges every batch
/// acknowledged before it, then every rule.
async fn evaluate(
    db: &Db,
    site: &str,
) -> Result<app::service::alerts::evaluate::Pass, app::db::DbError> {
    app::db::rollup::refresh_all_dirty(db).await?;
    app::service::alerts::evaluate::evaluate_all(db, site, now_ms()).await
}

/// Every few seconds, sends the outbox's due notifications.
pub fn spawn_delivery(db: Db, channels: Channels) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(DELIVER_EVERY);
        loop {
            tick.tick().await;
            if let Err(err) = deliver_due(&db, &channels, now_ms()).await {
                tracing::warn!(error = ?err, "delivering alert notifications failed; will retry");
            }
        }
    });
}

/// Sends every due delivery once (concurrently), recording each attempt. Returns how many
/// were attempted.
pub async fn deliver_due(db: &Db, channels: &Channels, now: i64) -> anyhow::Result<usize> {
    let due = alert::due_deliveries(db, now, BATCH).await?;
    let mut sends = tokio::task::JoinSet::new();
    for delivery in due {
        let Some(due_at) = delivery.next_attempt_at else {
            continue;
        };
        if !alert::claim_delivery(db, delivery.id, due_at, now + LEASE_MS).await? {
            continue;
        }
        let (db, channels) = (db.clone(), channels.clone());
        sends.spawn(async move { attempt(&db, delivery, &channels).await });
    }
    let mut attempted = 0;
    while let Some(done) = sends.join_next().await {
        done??;
        attempted += 1;
    }
    Ok(attempted)
}

/// What one attempt came to.
#[derive(Debug)]
pub struct Sent {
    pub outcome: String,
    pub delivered: bool,
    /// Worth trying again later (timeouts, 5xx, 408, 429, refused connections).
    pub retryable: bool,
}

async fn attempt(db: &Db, delivery: AlertDelivery, channels: &Channels) -> anyhow::Result<()> {
    let started = Instant::now();
    let at = now_ms();
    let sent = match delivery.channel {
        DeliveryChannel::Webhook => {
            let secret = alert::get_rule(db, delivery.rule_id)
                .await?
                .and_then(|rule| rule.webhook_secret)
                .unwrap_or_default();
            send_webhook(&delivery, &secret, channels.webhooks, at).await
        }
        DeliveryChannel::Email => send_email(&delivery, channels.smtp.as_ref()).await,
    };
    let attempts = delivery.attempts + 1;
    let next = match (sent.delivered, sent.retryable) {
        (true, _) | (false, false) => None,
        (false, true) => {
            let wait = FIRST_RETRY_MS
                .saturating_mul(1_i64 << (attempts - 1).clamp(0, 20))
                .min(LONGEST_RETRY_MS);
            Some(at + wait).filter(|next| *next <= delivery.created_at + RETRY_FOR_MS)
        }
    };
    let outcome = match (sent.delivered, next) {
        (false, None) if sent.retryable => {
            format!("{}; gave up after a day of retries", sent.outcome)
        }
        _ => sent.outcome,
    };
    alert::record_attempt(
        db,
        &DeliveryAttempt {
            id: 0,
            delivery_id: delivery.id,
            attempted_at: at,
            outcome,
            succeeded: sent.delivered,
            duration_ms: started.elapsed().as_millis() as i64,
        },
        sent.delivered,
        next,
    )
    .await?;
    Ok(())
}

/// `t=<unix seconds>, v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`.
pub fn signature(secret: &str, unix_seconds: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any size");
    mac.update(format!("{unix_seconds}.{body}").as_bytes());
    format!(
        "t={unix_seconds}, v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Where the webhook may be sent: the address its host resolves to, refused when internal
/// unless allowed. The connection then goes to exactly that address, so a name that resolves
/// differently a moment later (DNS rebinding) cannot redirect it.
async fn destination(url: &url::Url, policy: WebhookPolicy) -> Result<Option<SocketAddr>, String> {
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = match url.host() {
        None => return Err("refused: the address has no host".into()),
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Domain(name)) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|err| format!("could not resolve {name}: {err}"))?
            .collect(),
    };
    if !policy.allow_internal
        && let Some(internal) = addresses.iter().find(|a| is_internal_address(a.ip()))
    {
        return Err(format!(
            "refused: {} is an internal address (an administrator can allow those)",
            internal.ip()
        ));
    }
    match url.host() {
        Some(url::Host::Domain(_)) => Ok(addresses.first().copied()),
        _ => Ok(None),
    }
}

/// Posts one delivery's body, signed with `secret`.
pub async fn send_webhook(
    delivery: &AlertDelivery,
    secret: &str,
    policy: WebhookPolicy,
    now: i64,
) -> Sent {
    let refused = |outcome: String| Sent {
        outcome,
        delivered: false,
        retryable: false,
    };
    let url = match url::Url::parse(&delivery.target) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url,
        _ => return refused("refused: not an http(s) address".into()),
    };
    let pinned = match destination(&url, policy).await {
        Ok(pinned) => pinned,
        Err(why) if why.starts_with("refused") => return refused(why),
        Err(why) => {
            return Sent {
                outcome: why,
                delivered: false,
                retryable: true,
            };
        }
    };
    let _ = install_crypto();
    let mut client = reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        .connect_timeout(SEND_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Finishline/", env!("CARGO_PKG_VERSION")));
    if let (Some(address), Some(host)) = (pinned, url.host_str()) {
        client = client.resolve(host, address);
    }
    let client = match client.build() {
        Ok(client) => client,
        Err(err) => return refused(format!("could not prepare the request: {err}")),
    };
    let request = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-finishline-event", delivery.event.as_str())
        .header("x-finishline-delivery", delivery.id.to_string())
        .header(
            "x-finishline-signature",
            signature(secret, now.div_euclid(1_000), &delivery.body),
        )
        .body(delivery.body.clone());
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            Sent {
                outcome: format!("HTTP {}", status.as_u16()),
                delivered: status.is_success(),
                retryable: status.is_server_error()
                    || status.as_u16() == 408
                    || status.as_u16() == 429,
            }
        }
        Err(err) if err.is_timeout() => Sent {
            outcome: format!("timed out after {} s", SEND_TIMEOUT.as_secs()),
            delivered: false,
            retryable: true,
        },
        Err(err) => Sent {
            outcome: format!("could not connect: {}", without_url(&err)),
            delivered: false,
            retryable: true,
        },
    }
}

/// Sends one email delivery (its body is the outbox's JSON: subject, text, html) through the
/// configured SMTP server, as plain text with an HTML alternative.
pub async fn send_email(delivery: &AlertDelivery, smtp: Option<&Smtp>) -> Sent {
    use lettre::message::{Mailbox, MultiPart};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let refused = |outcome: String| Sent {
        outcome,
        delivered: false,
        retryable: false,
    };
    let Some(smtp) = smtp else {
        return refused("not sent: the server has no SMTP settings (--smtp-url)".into());
    };
    let body: serde_json::Value = serde_json::from_str(&delivery.body).unwrap_or_default();
    let field = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
    let (from, to) = match (
        smtp.from.parse::<Mailbox>(),
        delivery.target.parse::<Mailbox>(),
    ) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(_), _) => {
            return refused(format!(
                "refused: the sender '{}' is not an address",
                smtp.from
            ));
        }
        (_, Err(_)) => return refused("refused: the recipient is not an address".into()),
    };
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(field("subject"))
        .multipart(MultiPart::alternative_plain_html(
            field("text"),
            field("html"),
        ));
    let message = match message {
        Ok(message) => message,
        Err(err) => return refused(format!("refused: {err}")),
    };
    let _ = install_crypto();
    let transport = match AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url) {
        Ok(builder) => builder.timeout(Some(SEND_TIMEOUT)).build(),
        Err(_) => return refused("refused: the SMTP address (--smtp-url) is not valid".into()),
    };
    match transport.send(message).await {
        Ok(response) => Sent {
            outcome: format!("SMTP {}", response.code()),
            delivered: true,
            retryable: false,
        },
        Err(err) => Sent {
            // The error's words, never the URL (it holds the SMTP password).
            outcome: match err.status() {
                Some(code) => format!("SMTP {code}"),
                None if err.is_timeout() => format!("timed out after {} s", SEND_TIMEOUT.as_secs()),
                None => "could not reach the SMTP server".into(),
            },
            delivered: false,
            retryable: !err.is_permanent(),
        },
    }
}

/// ring rather than aws-lc-rs: it builds with a plain C compiler. rustls deprecates it for
/// lacking post-quantum key exchange, which a signed webhook or an alert email does not need.
fn install_crypto() -> Result<(), std::sync::Arc<rustls::crypto::CryptoProvider>> {
    #[allow(deprecated)]
    rustls::crypto::ring::default_provider().install_default()
}

/// The error's words without the address (whose path may be a secret).
fn without_url(err: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(err);
    let mut last = None;
    while let Some(inner) = source {
        last = Some(inner.to_string());
        source = inner.source();
    }
    last.unwrap_or_else(|| "connection failed".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        // HMAC-SHA256("key", "1700000000.{}"), computed with Python's hmac module.
        let signed = signature("key", 1_700_000_000, "{}");
        assert_eq!(
            signed,
            "t=1700000000, v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
        assert_ne!(signed, signature("key", 1_700_000_001, "{}"));
        assert_ne!(signed, signature("key", 1_700_000_000, "{ }"));
        assert_ne!(signed, signature("other", 1_700_000_000, "{}"));
    }
}
