//! Reconciliation with the provider's bill: the page, the read API's figures, the overview's
//! coverage line and the finance settings. Bills are the whole organisation's, so only those
//! who see every team (admins and finance) see them.

pub use crate::db::bill::compared_lines;
use crate::db::{Db, DbError, bill};
use crate::domain::Micros;
use crate::domain::basis_points::BasisPoints;
use crate::domain::reconcile::{Cause, Compared, coverage_bp, percent_bp};
use crate::domain::time::{format_day, format_month};
use crate::error::AppError;
use crate::service::accounts::{Actor, audit, invalid};
use crate::views::access::Viewer;
use crate::views::reconcile::{ProviderSummary, ReconciliationLine, ReconciliationView};
use serde_json::json;
use std::collections::BTreeMap;

/// The widest threshold a period may be off by and still reconcile: 50%.
const MAX_THRESHOLD_BP: i64 = 5_000;

/// One provider's compared lines added up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderTotals {
    pub provider: String,
    pub billed: Micros,
    pub seen: Micros,
    /// The share of the billed cost the calls cover; none when nothing was billed.
    pub coverage_bp: Option<i64>,
    pub unattributed: Micros,
    pub lines: usize,
    pub reconciled: usize,
}

/// The lines added up per provider, in provider order.
pub fn provider_totals<'a>(
    lines: impl IntoIterator<Item = &'a Compared>,
) -> Result<Vec<ProviderTotals>, DbError> {
    let mut by_provider: BTreeMap<&str, Vec<&Compared>> = BTreeMap::new();
    for line in lines {
        by_provider.entry(&line.provider).or_default().push(line);
    }
    by_provider
        .into_iter()
        .map(|(provider, lines)| {
            let sum = |f: fn(&Compared) -> Micros| {
                Micros::try_sum(lines.iter().map(|l| f(l))).map_err(DbError::from)
            };
            Ok(ProviderTotals {
                provider: provider.to_owned(),
                billed: sum(|l| l.billed)?,
                seen: sum(|l| l.seen)?,
                coverage_bp: coverage_bp(&lines),
                unattributed: sum(Compared::unattributed)?,
                lines: lines.len(),
                reconciled: lines
                    .iter()
                    .filter(|l| l.cause == Cause::Reconciled)
                    .count(),
            })
        })
        .collect()
}

/// A provider as people write it: `OpenAI`, `Anthropic`, else the name with a capital.
pub fn provider_name(provider: &str) -> String {
    match provider {
        "openai" => "OpenAI".to_owned(),
        "anthropic" => "Anthropic".to_owned(),
        "google" | "gcp.vertex_ai" | "gcp.gemini" => "Google".to_owned(),
        "aws.bedrock" => "AWS Bedrock".to_owned(),
        "azure.ai.openai" | "azure" => "Azure OpenAI".to_owned(),
        other => {
            let mut chars = other.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

fn share(bp: Option<i64>) -> String {
    bp.map(percent_bp).unwrap_or_else(|| "–".to_owned())
}

/// A difference with its sign: `+$0.60`, `−$1,204.10`, `$0.00` under half a cent.
fn signed(amount: Micros) -> String {
    let magnitude = Micros(amount.0.saturating_abs());
    match amount.0 {
        n if n.abs() < 5_000 => "$0.00".to_owned(),
        n if n > 0 => format!("+{magnitude}"),
        _ => format!("−{magnitude}"),
    }
}

fn signed_share(bp: Option<i64>) -> String {
    match bp {
        None => "–".to_owned(),
        Some(bp) if bp > 0 => format!("+{}", percent_bp(bp)),
        Some(bp) if bp < 0 => format!("−{}", percent_bp(-bp)),
        Some(_) => "0%".to_owned(),
    }
}

/// The reconciliation page for days `first_day..=last_day`.
pub async fn reconciliation_page(
    db: &Db,
    viewer: &Viewer,
    first_day: i64,
    last_day: i64,
    by_month: bool,
) -> Result<ReconciliationView, AppError> {
    if !viewer.sees_every_team() {
        return Err(AppError::forbidden(
            "Only admins and finance see the provider's bill: it covers every team.",
        ));
    }
    let settings = bill::finance_settings(db).await?;
    let threshold = settings.reconcile_threshold_bp;
    let lines = compared_lines(db, first_day, last_day, by_month, threshold).await?;
    let providers = provider_totals(&lines)?
        .into_iter()
        .map(|p| ProviderSummary {
            provider: provider_name(&p.provider),
            billed: p.billed.to_string(),
            seen: p.seen.to_string(),
            coverage: share(p.coverage_bp),
            unattributed: p.unattributed.to_string(),
            lines: p.lines,
            reconciled: p.reconciled,
        })
        .collect();
    let label = |day: i64| {
        if by_month {
            format_month(day)
        } else {
            format_day(day)
        }
    };
    // Differences first, the largest on top; reconciled lines after, latest period first.
    let mut ordered: Vec<&Compared> = lines.iter().collect();
    ordered.sort_by_cached_key(|l| match l.cause {
        Cause::Reconciled => (true, -l.period, format!("{}/{}", l.provider, l.model)),
        _ => (false, -l.difference().0.saturating_abs(), String::new()),
    });
    let rows: Vec<ReconciliationLine> = ordered
        .into_iter()
        .map(|l| ReconciliationLine {
            provider: provider_name(&l.provider),
            model: if l.model.is_empty() {
                "Other models".to_owned()
            } else {
                l.model.clone()
            },
            period: label(l.period),
            billed: l.billed.to_string(),
            seen: l.seen.to_string(),
            difference: signed(l.difference()),
            difference_share: signed_share(l.difference_bp()),
            reconciled: l.cause == Cause::Reconciled,
            cause: l.cause.label().to_owned(),
            explanation: l.explanation(threshold),
        })
        .collect();
    Ok(ReconciliationView {
        first_day: format_day(first_day),
        last_day: format_day(last_day),
        by_month,
        threshold: percent_bp(threshold).trim_end_matches('%').to_owned(),
        threshold_words: percent_bp(threshold),
        allocate_unattributed: settings.allocate_unattributed,
        may_edit: viewer.edits_costs(),
        providers,
        lines: rows,
        billed_days: bill::billed_days(db)
            .await?
            .map(|(first, last)| format!("{} to {}", format_day(first), format_day(last)))
            .unwrap_or_default(),
    })
}

/// For the overview: per month of the period that a bill covers, the share of each provider's
/// bill CPST covers ("November 2026: CPST covers 93.1% of the $14,820.00 OpenAI bill."). Empty
/// for viewers who do not see bills, and when no bill covers the period.
pub async fn coverage_sentences(
    db: &Db,
    viewer: &Viewer,
    first_day: i64,
    last_day: i64,
) -> Result<Vec<String>, AppError> {
    if !viewer.sees_every_team() {
        return Ok(Vec::new());
    }
    let threshold = bill::finance_settings(db).await?.reconcile_threshold_bp;
    let lines = compared_lines(db, first_day, last_day, true, threshold).await?;
    let mut months: BTreeMap<i64, Vec<&Compared>> = BTreeMap::new();
    for line in &lines {
        months.entry(line.period).or_default().push(line);
    }
    let mut sentences = Vec::new();
    for (month, lines) in months {
        let parts: Vec<String> = provider_totals(lines)?
            .into_iter()
            .filter_map(|p| {
                Some(format!(
                    "{} of the {} {} bill",
                    percent_bp(p.coverage_bp?),
                    p.billed,
                    provider_name(&p.provider)
                ))
            })
            .collect();
        if parts.is_empty() {
            continue;
        }
        let whole = month >= first_day
            && month + crate::domain::time::days_in_month_of(month) - 1 <= last_day;
        sentences.push(format!(
            "{}{}: CPST covers {}.",
            format_month(month),
            if whole {
                ""
            } else {
                " (its days in this period)"
            },
            parts.join(" and ")
        ));
    }
    Ok(sentences)
}

/// Saves the reconciliation threshold (a percentage) and whether unattributed spend is
/// allocated to workflows; audited as `finance.settings`.
pub async fn save_finance_settings(
    db: &Db,
    actor: Actor<'_>,
    viewer: &Viewer,
    threshold: &str,
    allocate_unattributed: bool,
    now: i64,
) -> Result<(), AppError> {
    if !viewer.edits_costs() {
        return Err(AppError::forbidden(
            "Only admins, and finance people an admin allowed, change how bills are reconciled.",
        ));
    }
    let threshold = BasisPoints::parse_percent(threshold, BasisPoints::new(MAX_THRESHOLD_BP))
        .ok()
        .filter(|bp| bp.get() > 0)
        .ok_or_else(|| {
            invalid(
                "threshold",
                "must be a percentage above 0 and at most 50, with at most two decimals",
            )
        })?;
    let before = bill::finance_settings(db).await?;
    let after = bill::FinanceSettings {
        reconcile_threshold_bp: threshold.get(),
        allocate_unattributed,
    };
    if before == after {
        return Ok(());
    }
    let words = |s: &bill::FinanceSettings| {
        json!({"reconcile_threshold": percent_bp(s.reconcile_threshold_bp),
               "allocate_unattributed": s.allocate_unattributed})
        .to_string()
    };
    let mut tx = db.begin().await?;
    bill::update_finance_settings(&mut tx, &after, actor.user_id, now).await?;
    audit(
        &mut tx,
        actor,
        ("finance.settings", "finance_settings", 1),
        (Some(words(&before)), Some(words(&after))),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
