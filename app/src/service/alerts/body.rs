//! What a notification says: Finishline's JSON body, or a Slack-compatible message (`text` and
//! blocks; Slack and Microsoft Teams incoming webhooks accept it).

use crate::domain::status::{DeliveryChannel, DeliveryEvent, WebhookFormat};
use crate::domain::time::format_instant;
use crate::model::{Alert, AlertRule};
use serde_json::{Value, json};

/// Everything one notification is about.
pub struct Message<'a> {
    pub event: DeliveryEvent,
    pub rule: &'a AlertRule,
    pub alert: &'a Alert,
    /// The workflow's or team's name.
    pub subject: &'a str,
    /// The workflow's handle in links, when the rule watches a workflow.
    pub workflow_handle: Option<&'a str>,
    /// The server's public address, `https://finishline.example.com`.
    pub site: &'a str,
}

impl Message<'_> {
    fn site(&self) -> &str {
        self.site.trim_end_matches('/')
    }

    fn alert_link(&self) -> String {
        format!("{}/alerts#alert-{}", self.site(), self.alert.id)
    }

    fn compare_link(&self) -> Option<String> {
        let handle = self.workflow_handle?;
        (!self.alert.link.is_empty()).then(|| {
            format!(
                "{}/workflows/{}/compare?{}",
                self.site(),
                crate::views::format::encode_query_value(handle),
                self.alert.link
            )
        })
    }

    /// The first line: what happened to what.
    pub fn title(&self) -> String {
        let what = self.rule.kind.label();
        match self.event {
            DeliveryEvent::Fired => format!("{what}: {}", self.subject),
            DeliveryEvent::Raised => format!("{what}, higher threshold reached: {}", self.subject),
            DeliveryEvent::Resolved => format!("Resolved, {what}: {}", self.subject),
            DeliveryEvent::Test => format!("Test of the {what} rule for {}", self.subject),
        }
    }
}

/// Every notification of one message: the rule's webhook, if any, and an email to each of
/// `emails`; each as (channel, target, body).
pub fn deliveries(
    message: &Message<'_>,
    emails: Vec<String>,
) -> Vec<(DeliveryChannel, String, String)> {
    let mut all = Vec::new();
    if let Some(url) = &message.rule.webhook_url {
        let body = webhook(message, message.rule.webhook_format);
        all.push((DeliveryChannel::Webhook, url.clone(), body));
    }
    if !emails.is_empty() {
        let body = email(message);
        all.extend(
            emails
                .into_iter()
                .map(|to| (DeliveryChannel::Email, to, body.clone())),
        );
    }
    all
}

/// An email's subject, plain text and HTML, as JSON for the outbox. Every name and figure in
/// the HTML is escaped.
pub fn email(m: &Message<'_>) -> String {
    let mut lines = vec![m.alert.headline.clone()];
    if !m.alert.cause.is_empty() {
        lines.push(m.alert.cause.clone());
    }
    if m.event == DeliveryEvent::Resolved {
        lines.push(m.alert.resolution.clone());
    }
    let mut links = vec![("Open the alert", m.alert_link())];
    if let Some(compare) = m.compare_link() {
        links.push(("Compare the two periods", compare));
    }
    let text = format!(
        "{}\n\n{}\n\n{}\n",
        m.title(),
        lines.join("\n\n"),
        links
            .iter()
            .map(|(label, href)| format!("{label}: {href}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let paragraphs: String = lines
        .iter()
        .map(|line| format!("<p>{}</p>", html_escape(line)))
        .collect();
    let anchors = links
        .iter()
        .map(|(label, href)| format!("<a href=\"{}\">{label}</a>", html_escape(href)))
        .collect::<Vec<_>>()
        .join(" · ");
    let html = format!(
        "<!doctype html><html><body><h1 style=\"font-size:18px\">{}</h1>{paragraphs}<p>{anchors}</p></body></html>",
        html_escape(&m.title()),
    );
    json!({ "subject": format!("Finishline: {}", m.title()), "text": text, "html": html })
        .to_string()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The body for `format`.
pub fn webhook(message: &Message<'_>, format: WebhookFormat) -> String {
    match format {
        WebhookFormat::Json => json_body(message),
        WebhookFormat::Slack => slack_body(message),
    }
    .to_string()
}

fn json_body(m: &Message<'_>) -> Value {
    let figures: Value = serde_json::from_str(&m.alert.figures).unwrap_or(Value::Null);
    json!({
        "event": m.event.as_str(),
        "title": m.title(),
        "alert": {
            "id": m.alert.id,
            "state": m.alert.state(),
            "condition": m.rule.kind.as_str(),
            "condition_label": m.rule.kind.label(),
            "subject": {
                "kind": if m.rule.workflow_id.is_some() { "workflow" } else { "team" },
                "name": m.subject,
                "workflow_id": m.rule.workflow_id,
                "team_id": m.alert.team_id,
            },
            "headline": m.alert.headline,
            "cause": m.alert.cause,
            "figures": figures,
            "fired_at": format_instant(m.alert.fired_at),
            "resolved_at": m.alert.resolved_at.map(format_instant),
            "resolution": m.alert.resolution,
            "rule": { "id": m.rule.id, "version": m.alert.rule_version, "window_days": m.rule.window_days },
        },
        "links": {
            "alert": m.alert_link(),
            "comparison": m.compare_link(),
        },
    })
}

/// Slack's `mrkdwn` treats `&`, `<` and `>` as markup: escaped, so a workflow named
/// `<!channel>` cannot ping anyone.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn slack_body(m: &Message<'_>) -> Value {
    let title = slack_escape(&m.title());
    let mut lines = vec![format!("*{title}*"), slack_escape(&m.alert.headline)];
    if !m.alert.cause.is_empty() {
        lines.push(slack_escape(&m.alert.cause));
    }
    if m.event == DeliveryEvent::Resolved {
        lines.push(slack_escape(&m.alert.resolution));
    }
    let mut links = vec![format!("<{}|Open the alert>", m.alert_link())];
    if let Some(compare) = m.compare_link() {
        links.push(format!("<{compare}|Compare the two periods>"));
    }
    lines.push(links.join(" · "));
    json!({
        "text": format!("{}: {}", m.title(), m.alert.headline),
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": lines.join("\n") } }
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::status::AlertKind;

    fn rule() -> AlertRule {
        AlertRule {
            id: 3,
            workflow_id: Some(7),
            team_id: None,
            kind: AlertKind::CpstRegression,
            window_days: 7,
            min_tasks: 50,
            monthly_budget_micros: None,
            thresholds: String::new(),
            webhook_url: Some("https://hooks.example.com/x".into()),
            webhook_format: WebhookFormat::Slack,
            webhook_secret: Some("s".into()),
            email_roles: String::new(),
            version: 2,
            paused: false,
            checked_at: None,
            last_finding: String::new(),
            created_by: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn alert() -> Alert {
        Alert {
            id: 11,
            rule_id: 3,
            rule_version: 2,
            workflow_id: Some(7),
            team_id: 1,
            fired_at: 0,
            checked_at: 0,
            level_bp: 0,
            headline: "CPST $0.88 → $1.04 <b>".into(),
            cause: "Since v3 took effect on 2026-11-20".into(),
            link: "baseline=v2&candidate=v3".into(),
            figures: "{\"decided\":400}".into(),
            acknowledged_at: None,
            acknowledged_by: None,
            acknowledged_note: String::new(),
            resolved_at: None,
            resolution: String::new(),
        }
    }

    #[test]
    fn slack_bodies_escape_markup_and_link_the_comparison() {
        let (rule, alert) = (rule(), alert());
        let message = Message {
            event: DeliveryEvent::Fired,
            rule: &rule,
            alert: &alert,
            subject: "Support <!channel> triage",
            workflow_handle: Some("support-triage"),
            site: "https://fl.example.com/",
        };
        let body: Value = serde_json::from_str(&webhook(&message, WebhookFormat::Slack)).unwrap();
        let text = body["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(text.contains("Support &lt;!channel&gt; triage"), "{text}");
        assert!(text.contains("&lt;b&gt;"), "{text}");
        assert!(text.contains(
            "<https://fl.example.com/workflows/support-triage/compare?baseline=v2&candidate=v3|Compare the two periods>"
        ), "{text}");
        assert!(
            body["text"]
                .as_str()
                .unwrap()
                .starts_with("CPST regression: Support")
        );
    }

    #[test]
    fn emails_escape_what_they_quote() {
        let (rule, alert) = (rule(), alert());
        let message = Message {
            event: DeliveryEvent::Fired,
            rule: &rule,
            alert: &alert,
            subject: "Support </title><script>alert(1)</script>",
            workflow_handle: Some("support-triage"),
            site: "https://fl.example.com",
        };
        let mail: Value = serde_json::from_str(&email(&message)).unwrap();
        let html = mail["html"].as_str().unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;/title&gt;&lt;script&gt;"), "{html}");
        assert!(html.contains("CPST $0.88 → $1.04 &lt;b&gt;"), "{html}");
        let text = mail["text"].as_str().unwrap();
        assert!(text.contains("Compare the two periods: https://fl.example.com/workflows/support-triage/compare?baseline=v2&candidate=v3"), "{text}");
        let subject = mail["subject"].as_str().unwrap();
        assert!(
            subject.starts_with("Finishline: CPST regression: Support"),
            "{subject}"
        );
        let all = deliveries(
            &message,
            vec!["a@example.com".into(), "b@example.com".into()],
        );
        let channels: Vec<_> = all
            .iter()
            .map(|(c, t, _)| (c.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            channels,
            [
                ("webhook", "https://hooks.example.com/x"),
                ("email", "a@example.com"),
                ("email", "b@example.com")
            ]
        );
    }

    #[test]
    fn json_bodies_carry_the_figures_and_the_state() {
        let (rule, alert) = (rule(), alert());
        let message = Message {
            event: DeliveryEvent::Fired,
            rule: &rule,
            alert: &alert,
            subject: "Support triage",
            workflow_handle: Some("support-triage"),
            site: "https://fl.example.com",
        };
        let body: Value = serde_json::from_str(&webhook(&message, WebhookFormat::Json)).unwrap();
        assert_eq!(body["alert"]["state"], "firing");
        assert_eq!(body["alert"]["figures"]["decided"], 400);
        assert_eq!(
            body["links"]["alert"],
            "https://fl.example.com/alerts#alert-11"
        );
    }
}
