//! Alert rules, the alerts they raise, and the outbox of their notifications.

use super::{Db, DbResult, Tx, execute, on_db, on_tx};
use crate::model::{Alert, AlertDelivery, AlertRule, DeliveryAttempt};

pub async fn insert_rule(tx: &mut Tx, rule: &AlertRule) -> DbResult<i64> {
    let sql = "INSERT INTO alert_rules (workflow_id, team_id, kind, window_days, min_tasks,
                   monthly_budget_micros, thresholds, webhook_url, webhook_format, webhook_secret,
                   email_roles, version, paused, created_by, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $13, $14, $14)
               RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(rule.workflow_id)
        .bind(rule.team_id)
        .bind(rule.kind.as_str())
        .bind(rule.window_days)
        .bind(rule.min_tasks)
        .bind(rule.monthly_budget_micros)
        .bind(&rule.thresholds)
        .bind(&rule.webhook_url)
        .bind(rule.webhook_format.as_str())
        .bind(&rule.webhook_secret)
        .bind(&rule.email_roles)
        .bind(rule.paused)
        .bind(rule.created_by)
        .bind(rule.created_at)
        .fetch_one(conn)
        .await)?)
}

/// Saves a rule's editable fields as its next version (the subject and kind stay).
pub async fn update_rule(tx: &mut Tx, rule: &AlertRule) -> DbResult<bool> {
    let sql = "UPDATE alert_rules SET window_days = $1, min_tasks = $2,
                   monthly_budget_micros = $3, thresholds = $4, webhook_url = $5,
                   webhook_format = $6, webhook_secret = $7, email_roles = $8, paused = $9,
                   version = version + 1, updated_at = $10
               WHERE id = $11 AND version = $12";
    let done = execute!(
        tx,
        sqlx::query(sql)
            .bind(rule.window_days)
            .bind(rule.min_tasks)
            .bind(rule.monthly_budget_micros)
            .bind(&rule.thresholds)
            .bind(&rule.webhook_url)
            .bind(rule.webhook_format.as_str())
            .bind(&rule.webhook_secret)
            .bind(&rule.email_roles)
            .bind(rule.paused)
            .bind(rule.updated_at)
            .bind(rule.id)
            .bind(rule.version)
    )?;
    Ok(done == 1)
}

pub async fn delete_rule(tx: &mut Tx, id: i64) -> DbResult<bool> {
    Ok(execute!(
        tx,
        sqlx::query("DELETE FROM alert_rules WHERE id = $1").bind(id)
    )? == 1)
}

pub async fn list_rules(db: &Db) -> DbResult<Vec<AlertRule>> {
    let sql = "SELECT * FROM alert_rules ORDER BY id";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
}

pub async fn get_rule(db: &Db, id: i64) -> DbResult<Option<AlertRule>> {
    let sql = "SELECT * FROM alert_rules WHERE id = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)?)
}

/// Remembers what the last evaluation of a rule found, for the rule list.
pub async fn record_check(tx: &mut Tx, rule_id: i64, at: i64, finding: &str) -> DbResult<()> {
    let sql = "UPDATE alert_rules SET checked_at = $1, last_finding = $2 WHERE id = $3";
    execute!(tx, sqlx::query(sql).bind(at).bind(finding).bind(rule_id))?;
    Ok(())
}

/// The rule's open alert, if it has one.
pub async fn open_alert(tx: &mut Tx, rule_id: i64) -> DbResult<Option<Alert>> {
    let sql = "SELECT * FROM alerts WHERE rule_id = $1 AND resolved_at IS NULL";
    Ok(on_tx!(tx, conn => sqlx::query_as(sql).bind(rule_id).fetch_optional(conn).await)?)
}

/// Stores a new open alert, or `None` when the rule already has one (another server fired it
/// first): the partial unique index keeps one open alert per rule.
pub async fn insert_alert(tx: &mut Tx, alert: &Alert) -> DbResult<Option<i64>> {
    let sql = "INSERT INTO alerts (rule_id, rule_version, workflow_id, team_id, fired_at,
                   checked_at, level_bp, headline, cause, link, figures)
               VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10)
               ON CONFLICT DO NOTHING RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(alert.rule_id)
        .bind(alert.rule_version)
        .bind(alert.workflow_id)
        .bind(alert.team_id)
        .bind(alert.fired_at)
        .bind(alert.level_bp)
        .bind(&alert.headline)
        .bind(&alert.cause)
        .bind(&alert.link)
        .bind(&alert.figures)
        .fetch_optional(conn)
        .await)?)
}

/// Refreshes an open alert's figures from a later evaluation that still finds it firing.
pub async fn refresh_alert(tx: &mut Tx, alert: &Alert) -> DbResult<()> {
    let sql = "UPDATE alerts SET checked_at = $1, level_bp = $2, headline = $3, cause = $4,
                   link = $5, figures = $6
               WHERE id = $7 AND resolved_at IS NULL";
    execute!(
        tx,
        sqlx::query(sql)
            .bind(alert.checked_at)
            .bind(alert.level_bp)
            .bind(&alert.headline)
            .bind(&alert.cause)
            .bind(&alert.link)
            .bind(&alert.figures)
            .bind(alert.id)
    )?;
    Ok(())
}

pub async fn resolve_alert(tx: &mut Tx, id: i64, at: i64, resolution: &str) -> DbResult<bool> {
    let sql = "UPDATE alerts SET resolved_at = $1, checked_at = $1, resolution = $2
               WHERE id = $3 AND resolved_at IS NULL";
    Ok(execute!(tx, sqlx::query(sql).bind(at).bind(resolution).bind(id))? == 1)
}

pub async fn acknowledge(
    tx: &mut Tx,
    id: i64,
    user_id: i64,
    at: i64,
    note: &str,
) -> DbResult<bool> {
    let sql = "UPDATE alerts SET acknowledged_at = $1, acknowledged_by = $2,
                   acknowledged_note = $3
               WHERE id = $4 AND resolved_at IS NULL AND acknowledged_at IS NULL";
    Ok(execute!(
        tx,
        sqlx::query(sql).bind(at).bind(user_id).bind(note).bind(id)
    )? == 1)
}

pub async fn get_alert(db: &Db, id: i64) -> DbResult<Option<Alert>> {
    let sql = "SELECT * FROM alerts WHERE id = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)?)
}

/// Open alerts, and alerts resolved since `resolved_since`, of one workflow or of all, newest
/// first, at most `limit`.
pub async fn recent_alerts(
    db: &Db,
    resolved_since: i64,
    workflow_id: Option<i64>,
    limit: i64,
) -> DbResult<Vec<Alert>> {
    let sql = "SELECT * FROM alerts
               WHERE (resolved_at IS NULL OR resolved_at >= $1)
                   AND ($2 IS NULL OR workflow_id = $2)
               ORDER BY fired_at DESC, id DESC LIMIT $3";
    Ok(on_db!(db, pool => sqlx::query_as(sql)
        .bind(resolved_since)
        .bind(workflow_id)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
}

/// The open alerts of one workflow and of its team's team-wide rules, newest first.
pub async fn open_alerts_of(db: &Db, workflow_id: i64, team_id: i64) -> DbResult<Vec<Alert>> {
    let sql = "SELECT * FROM alerts WHERE resolved_at IS NULL
                   AND (workflow_id = $1 OR (workflow_id IS NULL AND team_id = $2))
               ORDER BY fired_at DESC, id DESC";
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(workflow_id).bind(team_id).fetch_all(pool).await)?,
    )
}

/// A workflow's model calls in first attempts started on days `first_day..=last_day`, per
/// provider and model: the mix a change of configuration moves (retries follow from it). Read
/// from the call rollups, never the raw calls.
pub async fn first_attempt_models(
    db: &Db,
    workflow_id: i64,
    first_day: i64,
    last_day: i64,
) -> DbResult<Vec<(String, String, i64)>> {
    let sql = "SELECT provider, model, CAST(SUM(first_attempt_model_calls) AS BIGINT) AS calls
               FROM call_rollups
               WHERE workflow_id = $1 AND day BETWEEN $2 AND $3 AND model <> ''
               GROUP BY provider, model
               HAVING SUM(first_attempt_model_calls) > 0";
    Ok(on_db!(db, pool => sqlx::query_as(sql)
        .bind(workflow_id)
        .bind(first_day)
        .bind(last_day)
        .fetch_all(pool)
        .await)?)
}

/// The rules that have an open alert.
pub async fn rules_with_open_alerts(db: &Db) -> DbResult<std::collections::HashSet<i64>> {
    let sql = "SELECT rule_id FROM alerts WHERE resolved_at IS NULL";
    let ids: Vec<i64> = on_db!(db, pool => sqlx::query_scalar(sql).fetch_all(pool).await)?;
    Ok(ids.into_iter().collect())
}

/// Open alerts per team: (team id, count), for the navigation's count.
pub async fn open_counts(db: &Db) -> DbResult<Vec<(i64, i64)>> {
    let sql = "SELECT team_id, COUNT(*) FROM alerts WHERE resolved_at IS NULL GROUP BY team_id";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
}

pub async fn insert_delivery(tx: &mut Tx, delivery: &AlertDelivery) -> DbResult<i64> {
    let sql = "INSERT INTO alert_deliveries (rule_id, alert_id, event, channel, target, body,
                   created_at, next_attempt_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(delivery.rule_id)
        .bind(delivery.alert_id)
        .bind(delivery.event.as_str())
        .bind(delivery.channel.as_str())
        .bind(&delivery.target)
        .bind(&delivery.body)
        .bind(delivery.created_at)
        .fetch_one(conn)
        .await)?)
}

/// Deliveries whose next attempt is due, oldest first.
pub async fn due_deliveries(db: &Db, now: i64, limit: i64) -> DbResult<Vec<AlertDelivery>> {
    let sql = "SELECT * FROM alert_deliveries WHERE next_attempt_at <= $1
               ORDER BY next_attempt_at, id LIMIT $2";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(now).bind(limit).fetch_all(pool).await)?)
}

/// Takes a due delivery for one attempt: moves its next attempt to `lease_until`, so no other
/// server (or a restart of this one) tries it meanwhile. False when someone else took it.
pub async fn claim_delivery(db: &Db, id: i64, due_at: i64, lease_until: i64) -> DbResult<bool> {
    let mut tx = db.begin().await?;
    let sql = "UPDATE alert_deliveries SET next_attempt_at = $1
               WHERE id = $2 AND next_attempt_at = $3";
    let done = execute!(
        &mut tx,
        sqlx::query(sql).bind(lease_until).bind(id).bind(due_at)
    )?;
    tx.commit().await?;
    Ok(done == 1)
}

/// Records an attempt and what comes next: delivered, another try at `next_attempt_at`, or
/// given up (`next_attempt_at` None and not delivered).
pub async fn record_attempt(
    db: &Db,
    attempt: &DeliveryAttempt,
    delivered: bool,
    next_attempt_at: Option<i64>,
) -> DbResult<()> {
    let mut tx = db.begin().await?;
    let sql = "INSERT INTO alert_delivery_attempts (delivery_id, attempted_at, outcome,
                   succeeded, duration_ms)
               VALUES ($1, $2, $3, $4, $5)";
    execute!(
        &mut tx,
        sqlx::query(sql)
            .bind(attempt.delivery_id)
            .bind(attempt.attempted_at)
            .bind(&attempt.outcome)
            .bind(attempt.succeeded)
            .bind(attempt.duration_ms)
    )?;
    let at = attempt.attempted_at;
    let sql = "UPDATE alert_deliveries SET attempts = attempts + 1, last_outcome = $1,
                   next_attempt_at = $2,
                   delivered_at = CASE WHEN $3 THEN $4 ELSE delivered_at END,
                   gave_up_at = CASE WHEN $3 OR $2 IS NOT NULL THEN gave_up_at ELSE $4 END
               WHERE id = $5";
    execute!(
        &mut tx,
        sqlx::query(sql)
            .bind(&attempt.outcome)
            .bind(next_attempt_at)
            .bind(delivered)
            .bind(at)
            .bind(attempt.delivery_id)
    )?;
    tx.commit().await?;
    Ok(())
}

/// The deliveries of alerts fired since `since`, and of test sends made since then.
pub async fn deliveries_since(db: &Db, since: i64) -> DbResult<Vec<AlertDelivery>> {
    let sql = "SELECT * FROM alert_deliveries WHERE created_at >= $1 ORDER BY id";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(since).fetch_all(pool).await)?)
}

/// The attempts of these deliveries, by delivery, in the order they were made: one read per
/// 500 deliveries, not one per delivery.
pub async fn attempts_of_deliveries(
    db: &Db,
    delivery_ids: &[i64],
) -> DbResult<std::collections::BTreeMap<i64, Vec<DeliveryAttempt>>> {
    let mut by_delivery: std::collections::BTreeMap<i64, Vec<DeliveryAttempt>> =
        std::collections::BTreeMap::new();
    for chunk in delivery_ids.chunks(500) {
        let rows: Vec<DeliveryAttempt> = on_db!(db, pool => {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT * FROM alert_delivery_attempts WHERE delivery_id IN (",
            );
            super::push_list(&mut query, chunk.iter().copied());
            query.push(") ORDER BY delivery_id, id");
            query.build_query_as().fetch_all(pool).await
        })?;
        for row in rows {
            by_delivery.entry(row.delivery_id).or_default().push(row);
        }
    }
    Ok(by_delivery)
}

pub async fn attempts_of(db: &Db, delivery_id: i64) -> DbResult<Vec<DeliveryAttempt>> {
    let sql = "SELECT * FROM alert_delivery_attempts WHERE delivery_id = $1 ORDER BY id";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(delivery_id).fetch_all(pool).await)?)
}
