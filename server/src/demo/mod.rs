//! The demo dataset: about ninety days of realistic, reproducible data for four workflows
//! across three teams, so that every page has something true-looking to show.
//!
//! Generated from a seed: the same seed and end day always give the same rows.

mod catalog;
mod rng;

use anyhow::{Context, bail};
use app::db::{self, Db, Tx};
use app::domain::Micros;
use app::domain::pricing::{Rates, TokenCounts, cost_call};
use app::domain::sampling::is_sampled;
use app::domain::status::{
    AttemptStatus, CallKind, CallStatus, CostSource, EditSeverity, GradeVerdict, OutcomeKind,
    QueueReason, ReportedStatus, Role, TaskStatus,
};
use app::domain::time::MS_PER_DAY;
use app::domain::verdict::{self, evaluate_task};
use app::model::{Call, NewTask, PlatformCost, Price, WorkflowSettings};
use catalog::{TEAMS, VersionSpec, WORKFLOWS, WorkflowSpec};
use rng::Rng;
use std::fmt;

/// What to generate.
pub struct DemoSpec {
    pub seed: u64,
    /// Roughly how many tasks.
    pub tasks: u64,
    /// Last day of the data (days since the epoch); the data covers the 90 days ending with it.
    pub end_day: i64,
}

pub const DAYS: i64 = 90;

/// The demo-only accounts: one per role. Never use these passwords outside a demo.
pub const DEMO_USERS: [(&str, &str, Role, &str); 4] = [
    (
        "admin@demo.finishline.test",
        "Ada Admin",
        Role::Admin,
        "demo-admin-password",
    ),
    (
        "owner@demo.finishline.test",
        "Omar Owner",
        Role::Owner,
        "demo-owner-password",
    ),
    (
        "finance@demo.finishline.test",
        "Fiona Finance",
        Role::Finance,
        "demo-finance-password",
    ),
    (
        "reviewer@demo.finishline.test",
        "Rui Reviewer",
        Role::Reviewer,
        "demo-reviewer-password",
    ),
];

pub const SIGN_IN_HELP: &str = "Demo sign-in (demo data only): admin@demo.finishline.test / demo-admin-password \
(also owner@, finance@, reviewer@ with demo-<role>-password)";

/// Counts of what was written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub tasks: u64,
    pub attempts: u64,
    pub calls: u64,
    pub outcomes: u64,
    pub grades: u64,
    /// Tasks graded by a second reviewer, of which one in eight disagrees with the first.
    pub graded_twice: u64,
    pub queued: u64,
    /// Alerts the demo's rules raised on loading.
    pub alerts: u64,
    /// Billing lines of the OpenAI and Anthropic bills the demo imports.
    pub bill_lines: u64,
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Demo dataset loaded: {} tasks, {} attempts, {} calls, {} outcome events, {} grades, {} tasks waiting for review, {} alerts firing, {} billing lines.",
            self.tasks,
            self.attempts,
            self.calls,
            self.outcomes,
            self.grades,
            self.queued,
            self.alerts,
            self.bill_lines
        )
    }
}

/// Ids of what the catalog created, in catalog order.
struct Catalog {
    teams: Vec<(i64, Micros)>,
    reviewer_id: i64,
    second_reviewer_id: i64,
    workflows: Vec<WorkflowIds>,
    prices: Vec<Price>,
}

struct WorkflowIds {
    id: i64,
    task_types: Vec<i64>,
    rules: Vec<i64>,
    versions: [i64; 2],
}

/// Loads the demo dataset into an empty database.
pub async fn load(db: &Db, spec: &DemoSpec) -> anyhow::Result<DemoSummary> {
    if !db::workflow::list_workflows(db).await?.is_empty() {
        bail!(
            "the database already has workflows; the demo dataset loads only into an empty database"
        );
    }
    let start_day = spec.end_day - DAYS + 1;
    let start_ms = start_day * MS_PER_DAY;
    let now = db::now_ms().min((spec.end_day + 1) * MS_PER_DAY - 1);
    let mut rng = Rng::new(spec.seed);

    let mut tx = db.begin().await?;
    let catalog = create_catalog(&mut tx, start_ms)
        .await
        .context("creating the demo workflows")?;
    tx.commit().await?;
    let catalog = Catalog {
        prices: db::price::list_prices(db).await?,
        ..catalog
    };

    let mut summary = DemoSummary::default();
    let per_day = (spec.tasks as f64 / DAYS as f64).max(1.0);
    let shares: Vec<u32> = WORKFLOWS.iter().map(|w| w.share).collect();
    let mut tx = db.begin().await?;
    let mut sequence = 0u64;
    for offset in 0..DAYS {
        let day = start_day + offset;
        let weekday_factor = if (day + 4).rem_euclid(7) >= 5 {
            0.45
        } else {
            1.15
        };
        let growth = 0.85 + 0.3 * offset as f64 / DAYS as f64;
        let count = (per_day * weekday_factor * growth * (0.9 + 0.2 * rng.unit())).round() as u64;
        for _ in 0..count {
            let workflow = rng.weighted(&shares);
            let started_at = day * MS_PER_DAY + rng.between(7 * 3_600_000, 20 * 3_600_000);
            if started_at > now - 600_000 {
                continue;
            }
            sequence += 1;
            let context = TaskContext {
                catalog: &catalog,
                workflow,
                offset,
                started_at,
                now,
                sequence,
            };
            write_task(&mut tx, &mut rng, &context, &mut summary).await?;
        }
        if offset % 10 == 9 {
            tx.commit().await?;
            tx = db.begin().await?;
        }
    }
    for workflow in &catalog.workflows {
        db::rollup::refresh_slices(&mut tx, workflow.id, start_day, spec.end_day).await?;
    }
    tx.commit().await?;
    summary.alerts = alert_rules(db, &catalog, now).await?;
    summary.bill_lines = bills(db, &catalog.prices, start_day, spec.end_day).await?;
    Ok(summary)
}

/// The OpenAI and Anthropic bills of the demo's days, as their cost reports give them: a line
/// per model, day and token bucket, priced as the provider does. Two things do not add up, as
/// in life: last month's OpenAI bill carries a batch job of embeddings no gateway reported
/// (unattributed spend, about 4% of the month), and Anthropic billed Claude Sonnet's input at
/// $3.30 per million tokens last month while the price book says $3.00 (a price mismatch).
/// The demo's DeepSeek calls have no bill imported, so they are not compared.
async fn bills(db: &Db, prices: &[Price], start_day: i64, end_day: i64) -> anyhow::Result<u64> {
    use app::db::bill::{NewBillLine, insert_lines};
    use app::domain::reconcile::{TokenType, model_key};
    use app::domain::time::month_start;
    let this_month = month_start(end_day);
    let last_month = month_start(this_month - 1);
    let mut lines = Vec::new();
    let mut openai_last_month = 0i64;
    for row in db::bill::seen_rows(db, start_day, end_day).await? {
        if !["openai", "anthropic"].contains(&row.provider.as_str()) {
            continue;
        }
        let at = row.day * MS_PER_DAY;
        let Some(price) = Price::in_force(prices, &row.provider, &row.model, at) else {
            continue;
        };
        let rates = Rates::from(price);
        let plain = row.input_tokens - row.cache_read_tokens - row.cache_write_tokens;
        let mismatch =
            row.model == "claude-sonnet-4-5" && (last_month..this_month).contains(&row.day);
        for (token_type, tokens) in [
            (TokenType::Input, plain),
            (TokenType::Output, row.output_tokens),
            (TokenType::CacheRead, row.cache_read_tokens),
            (TokenType::CacheWrite, row.cache_write_tokens),
        ] {
            let mut rate = token_type.rate(&rates);
            if mismatch && token_type == TokenType::Input {
                rate = rate * 11 / 10;
            }
            let billed = Micros(tokens).scale(rate, 1_000_000)?;
            if tokens == 0 {
                continue;
            }
            if row.provider == "openai" && (last_month..this_month).contains(&row.day) {
                openai_last_month += billed.0;
            }
            lines.push(NewBillLine {
                line_key: format!(
                    "demo-{}-{}-{}-{}",
                    row.provider,
                    row.model,
                    row.day,
                    token_type.as_str()
                ),
                format: if row.provider == "openai" {
                    "openai"
                } else {
                    "anthropic"
                },
                provider: row.provider.clone(),
                model: row.model.clone(),
                model_key: model_key(&row.model),
                token_type: token_type.as_str(),
                period_start: at,
                period_end: at + MS_PER_DAY,
                billed_micros: billed.0,
                tokens: None,
                description: "demo bill".into(),
            });
        }
    }
    // The unreported batch job: embeddings on last month's weekdays.
    let weekdays: Vec<i64> = (last_month..this_month)
        .filter(|day| (day + 4).rem_euclid(7) < 5 && *day >= start_day)
        .collect();
    if !weekdays.is_empty() && openai_last_month > 0 {
        let per_day = openai_last_month * 4 / 100 / weekdays.len() as i64;
        for day in weekdays {
            lines.push(NewBillLine {
                line_key: format!("demo-openai-embeddings-{day}"),
                format: "openai",
                provider: "openai".into(),
                model: "text-embedding-3-large".into(),
                model_key: model_key("text-embedding-3-large"),
                token_type: "input",
                period_start: day * MS_PER_DAY,
                period_end: (day + 1) * MS_PER_DAY,
                billed_micros: per_day,
                tokens: None,
                description: "nightly catalogue re-embedding (not reported to Finishline)".into(),
            });
        }
    }
    let mut tx = db.begin().await?;
    let stored = insert_lines(&mut tx, &lines, "demo", db::now_ms()).await?;
    tx.commit().await?;
    Ok(stored)
}

/// The demo's alert rules, evaluated once: a CPST regression on refund replies (whose switch
/// to a cheaper, weaker model six days ago raises CPST beyond noise) and a monthly spend
/// budget for customer operations that this month's spend has passed 80% of. Returns the
/// alerts that fired.
async fn alert_rules(db: &Db, catalog: &Catalog, now: i64) -> anyhow::Result<u64> {
    use app::domain::status::AlertKind;
    use app::report::figures::{Filter, Grouping, figures};
    let team = catalog.teams[0].0;
    let today = app::domain::time::day_of(now);
    let month = app::report::Window {
        first_day: app::domain::time::month_start(today),
        last_day: today,
    };
    let all = app::db::catalog::Catalog::load(db).await?;
    let rows = app::db::catalog::window_rows(db, month).await?;
    let filter = Filter {
        team_id: Some(team),
        ..Filter::default()
    };
    let spent = figures(&all.ledger(month, &rows), &filter, Grouping::All)?
        .pop()
        .map_or(0, |g| g.set.total_cost().0);
    // 86% spent: the 80% threshold has fired, 90% is near. Whole ten dollars, at least ten.
    let ten = 10_000_000;
    let budget = ((spent.max(0) as u64 * 100 / 86).div_ceil(ten as u64).max(1) as i64) * ten;
    let refunds = catalog
        .workflows
        .iter()
        .zip(WORKFLOWS.iter())
        .find(|(_, spec)| spec.slug == "refund-replies")
        .map(|(ids, _)| ids.id);
    use app::model::AlertRule;
    let mut tx = db.begin().await?;
    if let Some(refunds) = refunds {
        let regression = AlertRule::new(Some(refunds), None, AlertKind::CpstRegression, now);
        db::alert::insert_rule(&mut tx, &regression).await?;
    }
    let spend = AlertRule {
        monthly_budget_micros: Some(budget),
        thresholds: "8000,9000,10000".into(),
        ..AlertRule::new(None, Some(team), AlertKind::SpendBudget, now)
    };
    db::alert::insert_rule(&mut tx, &spend).await?;
    tx.commit().await?;
    let pass = app::service::alerts::evaluate::evaluate_all(db, "", now).await?;
    Ok(pass.fired)
}

async fn create_catalog(tx: &mut Tx, start_ms: i64) -> anyhow::Result<Catalog> {
    let mut teams = Vec::new();
    for team in &TEAMS {
        let rate = Micros(team.labour_rate_dollars * 1_000_000);
        teams.push((
            db::identity::insert_team(tx, team.slug, team.name, rate, start_ms).await?,
            rate,
        ));
    }
    let mut user_ids = Vec::new();
    for (email, name, role, password) in DEMO_USERS {
        let hash = app::service::auth::hash_password(password.to_owned()).await?;
        let user = db::identity::NewUser {
            email,
            name,
            password_hash: &hash,
            role,
            can_edit_costs: false,
            is_demo: true,
            must_change_password: false,
        };
        user_ids.push(db::identity::insert_user(tx, &user, start_ms).await?);
    }
    let second_hash =
        app::service::auth::hash_password("demo-reviewer-password".to_owned()).await?;
    let second = db::identity::NewUser {
        email: "reviewer2@demo.finishline.test",
        name: "Rosa Reviewer",
        password_hash: &second_hash,
        role: Role::Reviewer,
        can_edit_costs: false,
        is_demo: true,
        must_change_password: false,
    };
    let second_reviewer_id = db::identity::insert_user(tx, &second, start_ms).await?;
    // The demo owner runs the first team's workflows only, so signing in as them shows what an
    // owner's scope hides; the reviewers grade for every team.
    db::identity::add_user_to_team(tx, user_ids[1], teams[0].0).await?;
    for (team_id, _) in &teams {
        for user in [user_ids[3], second_reviewer_id] {
            db::identity::add_user_to_team(tx, user, *team_id).await?;
        }
    }

    let mut workflows = Vec::new();
    for spec in &WORKFLOWS {
        let settings = WorkflowSettings {
            slug: spec.slug.into(),
            name: spec.name.into(),
            team_id: teams[spec.team].0,
            description: spec.description.into(),
            budget_cpst_micros: Micros(spec.budget_cents * 10_000),
            quality_target_bp: spec.quality_target_bp,
            gate_window_days: 30,
            gate_min_sample: spec.gate_min_sample,
            drift_tolerance_bp: 1_000,
            review_sampling_bp: 500,
            second_grader_bp: 2_000,
            latency_budget_ms: spec.latency_budget_ms,
        };
        let id = db::workflow::insert_workflow(tx, &settings, start_ms).await?;
        let mut task_types = Vec::new();
        let mut rules = Vec::new();
        for tt in spec.task_types {
            let new = db::workflow::NewTaskType {
                workflow_id: id,
                slug: tt.slug,
                name: tt.name,
                user_goal: tt.user_goal,
                pass_condition: tt.pass_condition,
                review_method: tt.review_method,
                segments: tt.segments,
            };
            let tt_id = db::workflow::insert_task_type(tx, &new, start_ms).await?;
            if let Some((seconds, reference, source)) = catalog::baseline_for(tt.slug) {
                let baseline = db::baseline::NewBaseline {
                    task_type_id: tt_id,
                    seconds: Some(seconds),
                    reference_price_micros: reference,
                    source,
                    effective_from: start_ms,
                    created_by: Some(user_ids[1]),
                };
                db::baseline::insert_baseline(tx, &baseline, start_ms).await?;
            }
            let rule = catalog::rule_for(spec.slug, tt.slug).to_json();
            rules.push(
                db::workflow::insert_success_rule(
                    tx,
                    tt_id,
                    &rule,
                    start_ms,
                    Some(user_ids[1]),
                    start_ms,
                )
                .await?
                .id,
            );
            task_types.push(tt_id);
        }
        let mut versions = [0; 2];
        for (i, version) in spec.versions.iter().enumerate() {
            let seen = start_ms
                + if i == 0 {
                    0
                } else {
                    spec.switch_day * MS_PER_DAY
                };
            versions[i] =
                db::config_version::ensure_config_version(tx, id, version.label, seen).await?;
            db::config_version::describe_config_version(tx, versions[i], version.description)
                .await?;
        }
        if spec.monthly_platform_dollars > 0 {
            let cost = PlatformCost {
                id: 0,
                name: format!("{} retrieval index and hosting", spec.name),
                workflow_id: Some(id),
                team_id: None,
                monthly_micros: Micros(spec.monthly_platform_dollars * 1_000_000),
                effective_from: start_ms,
                effective_to: None,
                created_at: start_ms,
            };
            db::platform_cost::insert_platform_cost(tx, &cost).await?;
        }
        workflows.push(WorkflowIds {
            id,
            task_types,
            rules,
            versions,
        });
    }
    let gateway = PlatformCost {
        id: 0,
        name: "AI gateway and trace storage".into(),
        workflow_id: None,
        team_id: Some(teams[0].0),
        monthly_micros: Micros(900_000_000),
        effective_from: start_ms,
        effective_to: None,
        created_at: start_ms,
    };
    db::platform_cost::insert_platform_cost(tx, &gateway).await?;

    // A negotiated discount on one model, mid-period: calls before it keep the old price.
    let change_at = start_ms + 60 * MS_PER_DAY;
    db::price::close_price(tx, "openai", "gpt-4.1-mini", change_at).await?;
    let discounted = Price {
        id: 0,
        provider: "openai".into(),
        model: "gpt-4.1-mini".into(),
        input_micros_per_mtok: 320_000,
        output_micros_per_mtok: 1_280_000,
        cache_read_micros_per_mtok: 80_000,
        cache_write_micros_per_mtok: 320_000,
        reasoning_micros_per_mtok: 1_280_000,
        audio_input_micros_per_mtok: None,
        image_input_micros_per_mtok: None,
        effective_from: change_at,
        effective_to: None,
        source: "demo: negotiated 20% discount".into(),
        checked_on: String::new(),
        created_at: change_at,
    };
    db::price::insert_price(tx, &discounted).await?;
    Ok(Catalog {
        teams,
        reviewer_id: user_ids[3],
        second_reviewer_id,
        workflows,
        prices: Vec::new(),
    })
}

struct TaskContext<'a> {
    catalog: &'a Catalog,
    workflow: usize,
    offset: i64,
    started_at: i64,
    now: i64,
    sequence: u64,
}

async fn write_task(
    tx: &mut Tx,
    rng: &mut Rng,
    cx: &TaskContext<'_>,
    summary: &mut DemoSummary,
) -> anyhow::Result<()> {
    let spec: &WorkflowSpec = &WORKFLOWS[cx.workflow];
    let ids = &cx.catalog.workflows[cx.workflow];
    let version_index = usize::from(cx.offset >= spec.switch_day);
    let version: &VersionSpec = &spec.versions[version_index];
    let tt_index = rng.weighted(&spec.task_types.iter().map(|t| t.weight).collect::<Vec<_>>());
    let task_type = &spec.task_types[tt_index];
    let segment = *rng.pick(task_type.segments);
    let external_id = format!("{}-{:06}", spec.slug, cx.sequence);

    // Attempts: each may fail and be retried, up to three.
    let success_odds =
        (1.0 - (1.0 - version.attempt_success) * task_type.difficulty).clamp(0.05, 0.99);
    let mut clock = cx.started_at;
    let mut attempts = Vec::new();
    let mut succeeded = false;
    for number in 1..=3 {
        let ok = rng.chance(success_odds);
        let calls = plan_calls(rng, version, &mut clock, ok);
        attempts.push((number, ok, calls));
        clock += rng.between(500, 4_000);
        if ok {
            succeeded = true;
            break;
        }
        if !rng.chance(0.7) {
            break;
        }
    }
    let finished_at = clock;
    let reported = if succeeded {
        ReportedStatus::Completed
    } else {
        match rng.weighted(&[7, 1, 2]) {
            0 => ReportedStatus::Escalated,
            1 => ReportedStatus::Abandoned,
            _ => ReportedStatus::Failed,
        }
    };
    let escalation_reason = (reported == ReportedStatus::Escalated).then(|| {
        let weights: Vec<u32> = spec.escalation_reasons.iter().map(|r| r.1).collect();
        spec.escalation_reasons[rng.weighted(&weights)].0.to_owned()
    });
    let false_finish = succeeded && rng.chance(version.false_finish * task_type.difficulty);
    let mut evidence = Evidence::generate(rng, spec.slug, false_finish, finished_at);
    if succeeded
        && !false_finish
        && reopened_on_model(version, task_type.slug, &attempts, cx.sequence)
    {
        // Decided without a draw from `rng`, so every other task of the demo stays as it was.
        let hours = 2 + (cx.sequence % 46) as i64;
        evidence
            .events
            .push((OutcomeKind::Reopened, finished_at + hours * 3_600_000));
    }
    // The verdict is the rule's, applied to what is known by `now`, as the server would decide.
    let rule = catalog::rule_for(spec.slug, task_type.slug);
    let mut known = verdict::Evidence {
        reported: Some(reported),
        finished_at: Some(finished_at),
        output: Some(evidence.output.clone()),
        expected: evidence.expected.clone(),
        outcomes: evidence
            .events
            .iter()
            .filter(|(_, at)| *at <= cx.now)
            .copied()
            .collect(),
        ..Default::default()
    };
    let automatic = evaluate_task(Some(&rule), &known, cx.now).status;

    // Grades: a deterministic 5% sample, graded unless it finished in the last week (those
    // wait in the review queue).
    let sampled = is_sampled(&external_id, 500);
    let graded =
        sampled && automatic != TaskStatus::Pending && finished_at < cx.now - 7 * MS_PER_DAY;
    let mut grades = Vec::new();
    if graded {
        let (verdict, severity) = match automatic {
            TaskStatus::Succeeded if rng.chance(version.assisted) => {
                (GradeVerdict::Assisted, EditSeverity::Factual)
            }
            TaskStatus::Succeeded if rng.chance(0.2) => {
                (GradeVerdict::Pass, EditSeverity::Cosmetic)
            }
            TaskStatus::Succeeded => (GradeVerdict::Pass, EditSeverity::None),
            _ => (GradeVerdict::Fail, EditSeverity::Factual),
        };
        grades.push((
            cx.catalog.reviewer_id,
            verdict,
            severity,
            rng.around(150, 0.6),
        ));
        if rng.chance(0.2) {
            // One second grade in eight disagrees, by count rather than by chance, so that
            // every dataset, however small and whatever its last day, has disagreements to read.
            summary.graded_twice += 1;
            let agree = summary.graded_twice % 8 != 1;
            let second = if agree {
                verdict
            } else if verdict == GradeVerdict::Pass {
                GradeVerdict::Assisted
            } else {
                GradeVerdict::Pass
            };
            // The severity says what the verdict implies: assisted means facts were repaired.
            let second_severity = match (second, severity) {
                (GradeVerdict::Assisted, _) => EditSeverity::Factual,
                (GradeVerdict::Pass, EditSeverity::Factual) => EditSeverity::None,
                (_, same) => same,
            };
            grades.push((
                cx.catalog.second_reviewer_id,
                second,
                second_severity,
                rng.around(150, 0.6),
            ));
        }
    }
    known.grades = grades.iter().map(|g| g.1).collect();
    let decided = evaluate_task(Some(&rule), &known, cx.now);
    let status = decided.status;

    let handling = match reported {
        ReportedStatus::Completed => rng.around(version.handling_seconds, 0.5),
        ReportedStatus::Escalated => rng.around(version.handling_seconds.max(60) * 3, 0.5),
        _ => 0,
    };
    let handling = if version.handling_seconds == 0 && reported == ReportedStatus::Completed {
        0
    } else {
        handling
    };
    let task = NewTask {
        external_id: external_id.clone(),
        workflow_id: ids.id,
        task_type_id: Some(ids.task_types[tt_index]),
        team_id: cx.catalog.teams[spec.team].0,
        config_version_id: Some(ids.versions[version_index]),
        segment: segment.to_owned(),
        started_at: cx.started_at,
        finished_at: Some(finished_at),
        reported_status: Some(reported),
        status: Some(status),
        status_rule_id: Some(ids.rules[tt_index]),
        status_reason: decided.reason,
        pending_until: decided.pending_until,
        escalation_reason,
        review_seconds: handling,
        input_summary: format!("{} #{}", task_type.name, cx.sequence),
        output: Some(evidence.output.to_string()),
        expected: evidence.expected.as_ref().map(|e| e.to_string()),
        checks: None,
        metrics: None,
        content_hash: format!("demo:{external_id}"),
    };
    let task_id = db::task::insert_task(tx, &task, finished_at).await?;
    summary.tasks += 1;

    for (number, ok, calls) in attempts {
        let correlation_id = format!("{external_id}-a{number}");
        let first = calls.first().map_or(cx.started_at, |c| c.started_at);
        let last = calls.last().map_or(first, |c| c.started_at + c.latency_ms);
        let attempt = db::task::NewAttempt {
            workflow_id: ids.id,
            task_id,
            number,
            correlation_id: correlation_id.clone(),
            status: if ok {
                AttemptStatus::Succeeded
            } else {
                AttemptStatus::Failed
            },
            error: (!ok).then(|| "output failed validation".to_owned()),
            started_at: first,
            finished_at: Some(last),
            content_hash: "demo".to_owned(),
        };
        let attempt_id = db::task::insert_attempt(tx, &attempt).await?;
        summary.attempts += 1;
        for (i, planned) in calls.into_iter().enumerate() {
            let call = planned.into_call(cx, ids.id, &correlation_id, task_id, attempt_id, i);
            db::task::insert_call(tx, &call).await?;
            summary.calls += 1;
        }
    }

    for (i, (kind, at)) in evidence.events.iter().enumerate() {
        if *at <= cx.now {
            let event = db::outcome::NewOutcome {
                external_id: &format!("{external_id}-e{i}"),
                workflow_id: ids.id,
                task_external_id: &external_id,
                kind: *kind,
                occurred_at: *at,
                source: if spec.slug == "support-triage" {
                    "helpdesk"
                } else {
                    "requester"
                },
                detail: "",
                content_hash: "demo",
            };
            db::outcome::insert_outcome(tx, &event, *at).await?;
            summary.outcomes += 1;
        }
    }

    if sampled && reported == ReportedStatus::Completed {
        db::queue::enqueue(tx, task_id, 1, QueueReason::Sampled, finished_at).await?;
        if grades.len() > 1 {
            db::queue::enqueue(tx, task_id, 2, QueueReason::SecondGrader, finished_at).await?;
        }
        summary.queued += u64::from(!graded);
    }
    for (slot, (reviewer, verdict, severity, seconds)) in grades.into_iter().enumerate() {
        let graded_at = finished_at + MS_PER_DAY + 3_600_000 * slot as i64;
        let grade = db::grade::NewGrade {
            external_id: None,
            task_id,
            reviewer_id: Some(reviewer),
            grader: &format!("user:{reviewer}"),
            verdict,
            edit_severity: severity,
            review_seconds: seconds,
            note: "",
            graded_at,
            content_hash: "demo",
        };
        db::grade::insert_grade(tx, &grade).await?;
        db::queue::mark_done(tx, task_id, slot as i64 + 1, Some(reviewer), graded_at).await?;
        summary.grades += 1;
    }
    Ok(())
}

/// Whether the task's finishing attempt drafted on a model its version has reopened for this
/// task type, by a coin the task's sequence number throws.
fn reopened_on_model(
    version: &VersionSpec,
    task_type: &str,
    attempts: &[(i64, bool, Vec<PlannedCall>)],
    sequence: u64,
) -> bool {
    let Some((_, _, calls)) = attempts.last() else {
        return false;
    };
    let coin = (sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1_u64 << 53) as f64;
    version.reopened_on.iter().any(|(slug, model, odds)| {
        *slug == task_type
            && calls
                .iter()
                .any(|c| c.kind == CallKind::Model && c.model == *model)
            && coin < *odds
    })
}

/// A call planned for an attempt, before it is priced.
struct PlannedCall {
    kind: CallKind,
    step: &'static str,
    provider: &'static str,
    model: &'static str,
    usage: TokenCounts,
    tool_cost: i64,
    started_at: i64,
    latency_ms: i64,
    status: CallStatus,
    error_type: Option<&'static str>,
    trace_bits: (u64, u64, u64),
}

fn plan_calls(rng: &mut Rng, version: &VersionSpec, clock: &mut i64, ok: bool) -> Vec<PlannedCall> {
    let trace = (rng.next_u64(), rng.next_u64());
    let mut calls = Vec::new();
    // A failing attempt stops at a random step; the step it stops at errors.
    let fail_at = if ok {
        usize::MAX
    } else {
        rng.between(0, version.steps.len() as i64 - 1) as usize
    };
    for (i, step) in version.steps.iter().enumerate() {
        if i > fail_at {
            break;
        }
        let (provider, model) = if step.models.is_empty() {
            ("internal", "")
        } else {
            let weights: Vec<u32> = step.models.iter().map(|m| m.2).collect();
            let choice = step.models[rng.weighted(&weights)];
            (choice.0, choice.1)
        };
        let rejected = step.kind == CallKind::Model && rng.chance(0.01);
        let usage = if step.kind == CallKind::Model && !rejected {
            let input = rng.around(step.input_tokens, 0.35);
            let cache_read = (input as f64 * step.cached_share * (0.8 + 0.4 * rng.unit()))
                .min(input as f64) as i64;
            let cache_write = if rng.chance(0.04) {
                (input - cache_read).min(rng.around(1_500, 0.3))
            } else {
                0
            };
            TokenCounts {
                input,
                output: rng.around(step.output_tokens, 0.4),
                cache_read,
                cache_write,
                ..Default::default()
            }
        } else {
            TokenCounts::default()
        };
        let latency_ms = if rejected {
            rng.between(40, 120)
        } else {
            rng.around(step.latency_ms, 0.5)
        };
        let (status, error_type) = if rejected {
            (CallStatus::Rejected, Some("rate_limited"))
        } else if i == fail_at {
            (
                CallStatus::Error,
                Some(*rng.pick(&["schema_invalid", "timeout", "low_confidence", "tool_error"])),
            )
        } else {
            (CallStatus::Ok, None)
        };
        calls.push(PlannedCall {
            kind: step.kind,
            step: step.step,
            provider,
            model,
            usage,
            tool_cost: if step.kind == CallKind::Model || rejected {
                0
            } else {
                step.tool_cost_micros
            },
            started_at: *clock,
            latency_ms,
            status,
            error_type,
            trace_bits: (trace.0, trace.1, rng.next_u64()),
        });
        *clock += latency_ms + rng.between(20, 300);
    }
    calls
}

impl PlannedCall {
    fn into_call(
        self,
        cx: &TaskContext<'_>,
        workflow_id: i64,
        correlation_id: &str,
        task_id: i64,
        attempt_id: i64,
        index: usize,
    ) -> Call {
        let price = cx.catalog.prices.iter().find(|p| {
            p.provider == self.provider
                && p.model == self.model
                && p.effective_from <= self.started_at
                && p.effective_to.is_none_or(|to| to > self.started_at)
        });
        let reported = (self.kind != CallKind::Model).then_some(Micros(self.tool_cost));
        let rejected = self.status == CallStatus::Rejected;
        // The demo's catalogue prices its own token counts well within range.
        let pricing = cost_call(
            reported,
            rejected,
            &self.usage,
            price.map(|p| (p.id, Rates::from(p))),
        )
        .unwrap_or(app::domain::pricing::CallPricing {
            priced: Default::default(),
            source: app::domain::status::CostSource::Unpriced,
            price_id: None,
        });
        let (cost, cache_read, cache_write) = (
            pricing.priced.total.0,
            pricing.priced.cache_read.0,
            pricing.priced.cache_write.0,
        );
        let (source, price_id) = (pricing.source, pricing.price_id);
        Call {
            id: 0,
            external_id: format!("{correlation_id}-c{index}"),
            workflow_id,
            correlation_id: correlation_id.to_owned(),
            task_id: Some(task_id),
            attempt_id: Some(attempt_id),
            kind: self.kind,
            step: self.step.to_owned(),
            provider: self.provider.to_owned(),
            model: self.model.to_owned(),
            input_tokens: self.usage.input,
            output_tokens: self.usage.output,
            cache_read_tokens: self.usage.cache_read,
            cache_write_tokens: self.usage.cache_write,
            reasoning_tokens: self.usage.reasoning,
            audio_input_tokens: self.usage.audio_input,
            image_input_tokens: self.usage.image_input,
            reported_cost_micros: (source == CostSource::Reported).then_some(cost),
            cost_micros: Micros(cost),
            cache_read_cost_micros: Micros(cache_read),
            cache_write_cost_micros: Micros(cache_write),
            cost_source: source,
            price_id,
            started_at: self.started_at,
            latency_ms: self.latency_ms,
            status: self.status,
            error_type: self.error_type.map(str::to_owned),
            trace_id: Some(format!(
                "{:016x}{:016x}",
                self.trace_bits.0, self.trace_bits.1
            )),
            span_id: Some(format!("{:016x}", self.trace_bits.2)),
            parent_span_id: None,
            content_hash: "demo".into(),
            created_at: self.started_at + self.latency_ms,
        }
    }
}

/// The evidence a task's success rule is judged on, events dated as they will happen.
struct Evidence {
    output: serde_json::Value,
    expected: Option<serde_json::Value>,
    events: Vec<(OutcomeKind, i64)>,
}

impl Evidence {
    fn generate(rng: &mut Rng, workflow: &str, false_finish: bool, finished_at: i64) -> Evidence {
        use serde_json::json;
        let hour = 3_600_000;
        match workflow {
            "support-triage" => {
                let mut events = vec![(
                    OutcomeKind::Resolved,
                    finished_at + rng.between(1, 30) * 60_000,
                )];
                if false_finish {
                    events.push((
                        OutcomeKind::Reopened,
                        finished_at + rng.between(2, 47) * hour,
                    ));
                }
                let category = *rng.pick(&["access", "billing", "shipping", "account"]);
                Evidence {
                    output: json!({"category": category, "reply": "Drafted reply"}),
                    expected: None,
                    events,
                }
            }
            "invoice-clearing" => {
                let code = *rng.pick(&["6100", "6200", "6410", "7020"]);
                let approved = if false_finish { "6999" } else { code };
                Evidence {
                    output: json!({"vendor": "Acme Supplies", "amount": rng.between(100, 90_000), "currency": "EUR", "gl_code": code}),
                    expected: Some(json!({"gl_code": approved})),
                    events: vec![(
                        OutcomeKind::Reconciled,
                        finished_at + rng.between(1, 20) * hour,
                    )],
                }
            }
            "refund-replies" => {
                let output = if false_finish {
                    json!({"decision": "approve", "amount_cents": "12.50"})
                } else {
                    json!({"decision": *rng.pick(&["approve", "deny", "partial"]), "amount_cents": rng.between(0, 20_000)})
                };
                Evidence {
                    output,
                    expected: None,
                    events: vec![],
                }
            }
            _ => {
                let decided_at = finished_at + rng.between(2, 30) * hour;
                let kind = if false_finish {
                    OutcomeKind::Rejected
                } else {
                    OutcomeKind::Accepted
                };
                Evidence {
                    output: json!({"title": "Draft memo"}),
                    expected: None,
                    events: vec![(kind, decided_at)],
                }
            }
        }
    }
}
