//! The levers that move a workflow's CPST, measured from its rollups over a window and compared
//! with the window before:
//! - **routing**: per task type, which model did each task's first attempt, its share of the
//!   tasks and of the cost, its success rate with an interval and its CPST; the cheapest model
//!   per finished task among those whose success rate is not clearly below the best one's, and
//!   the money at stake: what the work the models clearly dearer per success finished cost
//!   above what it would have cost at that model's CPST;
//! - **caching**: the share of input tokens read from the prompt cache, the cache's cost, and
//!   what it saved: the cached tokens of priced calls at the input price, less what they cost;
//! - **failed runs**: the failure tax in dollars (everything spent on failed, escalated and
//!   abandoned tasks, plus the retries of those that came to an end) and the share of attempts
//!   that failed.
//!
//! Pure: the service loads the rows. Pending tasks are left out of every lever, as they are
//! out of CPST.

use super::figures::{Filter, Grouping, Ledger, add_count, figures, ratio, row_cost};
use crate::domain::Micros;
use crate::domain::cpst::{Cpst, Proportion};
use crate::domain::money::MoneyOverflow;
use crate::domain::status::TaskStatus;
use serde::{Deserialize, Serialize};

/// Decided tasks a model needs on a task type before routing names it or weighs against it.
pub const MIN_ROUTING_EVIDENCE: u64 = 30;

/// Every lever of one workflow over a window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Levers {
    /// One entry per task type with decided tasks, most tasks first.
    pub routing: Vec<Routing>,
    /// The sum of every task type's routing money at stake.
    pub routing_at_stake: Micros,
    pub caching: Caching,
    pub failed_runs: FailedRuns,
}

/// Which models did one task type's work, and what a finished task cost on each.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Routing {
    pub task_type_id: i64,
    pub label: String,
    /// Most tasks first.
    pub routes: Vec<Route>,
    /// The cheapest model per finished task among those with enough evidence whose success
    /// rate's interval reaches the best observed rate, named only when another model with
    /// enough evidence costs clearly more per success: more than the best's CPST at the low end
    /// of its success rate's interval.
    pub best: Option<String>,
    /// What the tasks finished by the other models cost above the best model's CPST.
    pub at_stake: Micros,
}

/// One model on one task type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// "provider/model"; empty for tasks without a model call.
    pub model: String,
    pub tasks: u64,
    pub decided: u64,
    /// Its share of the task type's tasks, now and over the window before.
    pub task_share: Option<f64>,
    pub task_share_before: Option<f64>,
    pub cost: Micros,
    pub cost_share: Option<f64>,
    pub success: Option<Proportion>,
    pub cpst: Cpst,
    pub at_stake: Micros,
}

/// How much input the prompt cache served.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Caching {
    pub input_tokens: u64,
    pub cache_read_tokens: u64,
    pub share: Option<f64>,
    pub share_before: Option<f64>,
    /// The cache component of the cost (reads and writes).
    pub cost: Micros,
    pub cost_before: Micros,
    /// What the cache saved priced calls: their cached tokens at the input price less what
    /// those tokens cost (writes' premium included), now and before.
    pub saved: Micros,
    pub saved_before: Micros,
    /// Cached tokens of calls with a reported cost, whose saving cannot be told.
    pub unpriced_tokens: u64,
}

/// What work that did not finish cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FailedRuns {
    /// The failure tax in dollars: every cost of failed, escalated and abandoned tasks, labour
    /// included, plus the retry cost of the tasks that came to an end (succeeded, or assisted:
    /// finished by a person who fixed facts).
    pub tax: Micros,
    pub tax_before: Micros,
    /// The tax's part from failed, escalated and abandoned tasks, by verdict:
    /// (verdict, tasks, cost), costliest first.
    pub by_status: Vec<(TaskStatus, u64, Micros)>,
    /// The retry cost of succeeded and assisted tasks.
    pub finished_retries: Micros,
    /// Attempts of decided tasks, and those that failed: every attempt of a failed, escalated
    /// or abandoned task and every attempt but the last of one that came to an end.
    pub attempts: u64,
    pub failed_attempts: u64,
    pub failed_share: Option<f64>,
    pub failed_share_before: Option<f64>,
}

/// The levers of `workflow_id` over `now.window`, against `before.window`.
pub fn levers(
    now: &Ledger<'_>,
    before: &Ledger<'_>,
    workflow_id: i64,
) -> Result<Levers, MoneyOverflow> {
    let mut routing = Vec::new();
    let filter = Filter {
        workflow_ids: Some(vec![workflow_id]),
        ..Filter::default()
    };
    for task_type in figures(now, &filter, Grouping::TaskType)? {
        let Ok(task_type_id) = task_type.key.parse::<i64>() else {
            continue;
        };
        let of_type = Filter {
            task_type_id: Some(task_type_id),
            ..filter.clone()
        };
        let earlier = figures(before, &of_type, Grouping::Model)?;
        let earlier_tasks: u64 = earlier.iter().map(|g| g.usage.tasks).sum();
        let groups = figures(now, &of_type, Grouping::Model)?;
        let tasks: u64 = groups.iter().map(|g| g.usage.tasks).sum();
        let cost = Micros::try_sum(groups.iter().map(|g| g.set.total_cost()))?;
        let mut routes: Vec<Route> = groups
            .iter()
            .map(|g| Route {
                model: g.key.clone(),
                tasks: g.usage.tasks,
                decided: g.set.counts.decided(),
                task_share: ratio(g.usage.tasks, tasks),
                task_share_before: earlier
                    .iter()
                    .find(|e| e.key == g.key)
                    .and_then(|e| ratio(e.usage.tasks, earlier_tasks)),
                cost: g.set.total_cost(),
                cost_share: (cost.0 > 0).then(|| g.set.total_cost().0 as f64 / cost.0 as f64),
                success: g.set.success_rate(),
                cpst: g.set.cost_per_successful_task(),
                at_stake: Micros::ZERO,
            })
            .collect();
        if routes.iter().all(|r| r.decided == 0) {
            continue;
        }
        let mut best = best_route(&routes);
        let mut at_stake = Micros::ZERO;
        if let Some(i) = best {
            let (best_cost, best_successes) = (routes[i].cost, successes(&routes[i])?);
            // The best model's CPST at the low end of its success rate: a model is weighed
            // against it only when its own CPST is above even that, so noise puts nothing at
            // stake.
            let ceiling = routes[i].success.map_or(f64::INFINITY, |s| {
                best_cost.0 as f64 / (s.lower * s.trials as f64)
            });
            for (j, route) in routes.iter_mut().enumerate() {
                let weighed = j != i
                    && is_proven(route)
                    && route.cpst.micros().is_some_and(|c| c.0 as f64 > ceiling);
                if !weighed {
                    continue;
                }
                // Its successes at the best model's cost per success, rounded once.
                let at_best = best_cost.scale(successes(route)?, best_successes)?;
                route.at_stake = route.cost.checked_sub(at_best)?.max(Micros::ZERO);
                at_stake = at_stake.checked_add(route.at_stake)?;
            }
            if at_stake == Micros::ZERO {
                best = None;
            }
        }
        let best = best.map(|i| routes[i].model.clone());
        routes.sort_by(|a, b| b.tasks.cmp(&a.tasks).then_with(|| a.model.cmp(&b.model)));
        routing.push(Routing {
            task_type_id,
            label: task_type.label,
            routes,
            best,
            at_stake,
        });
    }
    routing.sort_by(|a, b| {
        let tasks = |r: &Routing| r.routes.iter().map(|m| m.tasks).sum::<u64>();
        tasks(b).cmp(&tasks(a)).then_with(|| a.label.cmp(&b.label))
    });
    let routing_at_stake = Micros::try_sum(routing.iter().map(|r| r.at_stake))?;
    let (caching_now, failed_now) = tally(now, workflow_id)?;
    let (caching_before, failed_before) = tally(before, workflow_id)?;
    Ok(Levers {
        routing,
        routing_at_stake,
        caching: Caching {
            share_before: caching_before.share,
            cost_before: caching_before.cost,
            saved_before: caching_before.saved,
            ..caching_now
        },
        failed_runs: FailedRuns {
            tax_before: failed_before.tax,
            failed_share_before: failed_before.failed_share,
            ..failed_now
        },
    })
}

/// The index of the route routing would send the work to, if the evidence names one: the
/// cheapest per success among proven models whose success rate's interval reaches the best
/// observed rate.
fn best_route(routes: &[Route]) -> Option<usize> {
    let proven: Vec<(usize, Proportion, Micros)> = routes
        .iter()
        .enumerate()
        .filter(|(_, r)| is_proven(r))
        .filter_map(|(i, r)| Some((i, r.success?, r.cpst.micros()?)))
        .collect();
    if proven.len() < 2 {
        return None;
    }
    let top = proven.iter().map(|(_, s, _)| s.value).fold(0.0, f64::max);
    proven
        .into_iter()
        .filter(|(_, s, _)| s.upper >= top)
        .min_by(|a, b| {
            a.2.cmp(&b.2)
                .then_with(|| routes[a.0].model.cmp(&routes[b.0].model))
        })
        .map(|(i, ..)| i)
}

/// A model with enough decided tasks of the type for routing to name it or weigh against it.
fn is_proven(route: &Route) -> bool {
    !route.model.is_empty() && route.decided >= MIN_ROUTING_EVIDENCE
}

/// A route's successes, as a count money can be scaled by.
fn successes(route: &Route) -> Result<i64, MoneyOverflow> {
    i64::try_from(route.success.map_or(0, |s| s.successes)).map_err(|_| MoneyOverflow)
}

/// Caching and failed runs of one workflow over a ledger's window: the figures that add up
/// row by row.
fn tally(ledger: &Ledger<'_>, workflow_id: i64) -> Result<(Caching, FailedRuns), MoneyOverflow> {
    let mut caching = Caching::default();
    let mut failed = FailedRuns::default();
    let mut by_status: Vec<(TaskStatus, u64, Micros)> = Vec::new();
    for row in ledger.rows.iter().filter(|r| r.workflow_id == workflow_id) {
        if row.status == TaskStatus::Pending {
            continue;
        }
        add_count(&mut caching.input_tokens, row.input_tokens)?;
        add_count(&mut caching.cache_read_tokens, row.cache_read_tokens)?;
        caching.cost = caching.cost.checked_add(Micros(row.cache_cost_micros))?;
        caching.saved = caching.saved.checked_add(Micros(row.cache_saved_micros))?;
        add_count(&mut caching.unpriced_tokens, row.cache_unpriced_tokens)?;
        add_count(&mut failed.attempts, row.attempts)?;
        if matches!(row.status, TaskStatus::Succeeded | TaskStatus::Assisted) {
            let retries = Micros(row.retry_cost_micros);
            failed.finished_retries = failed.finished_retries.checked_add(retries)?;
            failed.tax = failed.tax.checked_add(retries)?;
            add_count(
                &mut failed.failed_attempts,
                row.attempts.saturating_sub(row.tasks),
            )?;
            continue;
        }
        let cost = row_cost(row).total()?;
        failed.tax = failed.tax.checked_add(cost)?;
        add_count(&mut failed.failed_attempts, row.attempts)?;
        match by_status.iter_mut().find(|(s, ..)| *s == row.status) {
            Some((_, tasks, total)) => {
                add_count(tasks, row.tasks)?;
                *total = total.checked_add(cost)?;
            }
            None => by_status.push((row.status, row.tasks.max(0) as u64, cost)),
        }
    }
    by_status.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.as_str().cmp(b.0.as_str())));
    failed.by_status = by_status;
    caching.share = ratio(caching.cache_read_tokens, caching.input_tokens);
    failed.failed_share = ratio(failed.failed_attempts, failed.attempts);
    Ok((caching, failed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TaskRollup, TaskType, Workflow};
    use crate::report::Window;

    fn row(
        task_type_id: i64,
        model: &str,
        status: TaskStatus,
        tasks: i64,
        cost: i64,
    ) -> TaskRollup {
        TaskRollup::sample(task_type_id, model, status, tasks, cost)
    }

    fn measure(rows: &[TaskRollup], before: &[TaskRollup]) -> Levers {
        let workflows = [Workflow::sample(1, 1)];
        let task_type = |id: i64, slug: &str| TaskType {
            id,
            workflow_id: 1,
            slug: slug.to_owned(),
            name: slug.to_owned(),
            user_goal: String::new(),
            pass_condition: String::new(),
            review_method: crate::domain::status::ReviewMethod::Automatic,
            created_at: 0,
        };
        let task_types = [task_type(1, "easy"), task_type(2, "hard")];
        let ledger = |window, rows| Ledger {
            window,
            workflows: &workflows,
            teams: &[],
            task_types: &task_types,
            config_versions: &[],
            platform_costs: &[],
            unattributed: &[],
            baselines: &[],
            rows,
        };
        let window = Window::ending(100, 30);
        levers(&ledger(window, rows), &ledger(window.previous(), before), 1).unwrap()
    }

    const LARGE: &str = "anthropic/claude-sonnet-4-5";
    const SMALL: &str = "anthropic/claude-haiku-4-5";

    #[test]
    fn routing_names_the_cheaper_model_that_is_no_worse_and_prices_the_rest() {
        use TaskStatus::{Failed, Succeeded};
        // Easy tickets: the large model finishes 90 of 100 at $1.00 a task; the small one 45
        // of 50 at $0.20 a task.
        let rows = [
            row(1, LARGE, Succeeded, 90, 90_000_000),
            row(1, LARGE, Failed, 10, 10_000_000),
            row(1, SMALL, Succeeded, 45, 9_000_000),
            row(1, SMALL, Failed, 5, 1_000_000),
        ];
        let levers = measure(&rows, &[]);
        let easy = &levers.routing[0];
        assert_eq!(easy.best.as_deref(), Some(SMALL));
        // The large model's 90 finished tasks cost $100; at the small model's CPST ($10 / 45)
        // they would have cost $20.
        assert_eq!(easy.routes[0].model, LARGE);
        assert_eq!(easy.routes[0].task_share, Some(100.0 / 150.0));
        assert_eq!(easy.routes[0].at_stake, Micros(80_000_000));
        assert_eq!(easy.at_stake, Micros(80_000_000));
        assert_eq!(levers.routing_at_stake, Micros(80_000_000));
    }

    #[test]
    fn routing_never_names_a_model_clearly_worse_or_without_evidence() {
        use TaskStatus::{Failed, Succeeded};
        // The small model is cheaper but finishes only 10 of 50: clearly worse.
        let worse = [
            row(2, LARGE, Succeeded, 90, 90_000_000),
            row(2, LARGE, Failed, 10, 10_000_000),
            row(2, SMALL, Succeeded, 10, 1_000_000),
            row(2, SMALL, Failed, 40, 4_000_000),
        ];
        let levers = measure(&worse, &[]);
        // The large model is the only one no worse, and the small one's CPST ($0.50) is not
        // above it ($1.11): nothing is at stake in moving its work, and no route is named.
        assert_eq!(levers.routing[0].best, None);
        assert_eq!(levers.routing[0].at_stake, Micros::ZERO);
        // Twenty decided tasks are too few to weigh.
        let thin = [
            row(2, LARGE, Succeeded, 90, 90_000_000),
            row(2, SMALL, Succeeded, 20, 1_000_000),
        ];
        let levers = measure(&thin, &[]);
        assert_eq!(levers.routing[0].best, None);
        assert_eq!(levers.routing_at_stake, Micros::ZERO);
    }

    #[test]
    fn routing_puts_nothing_at_stake_when_the_difference_is_noise() {
        use TaskStatus::{Failed, Succeeded};
        // $1.00 and $0.95 a task, 90% and 88% success on 50 tasks each: within noise.
        let close = [
            row(1, LARGE, Succeeded, 45, 45_000_000),
            row(1, LARGE, Failed, 5, 5_000_000),
            row(1, SMALL, Succeeded, 44, 41_800_000),
            row(1, SMALL, Failed, 6, 5_700_000),
        ];
        let levers = measure(&close, &[]);
        assert_eq!(levers.routing[0].best, None);
        assert_eq!(levers.routing_at_stake, Micros::ZERO);
    }

    #[test]
    fn failed_runs_count_every_cost_of_failed_work_and_the_retries_of_finished_work() {
        use TaskStatus::{Abandoned, Assisted, Escalated, Pending, Succeeded};
        let mut done = row(1, SMALL, Succeeded, 10, 2_000_000);
        done.attempts = 14;
        done.retry_cost_micros = 400_000;
        let mut escalated = row(1, SMALL, Escalated, 2, 600_000);
        escalated.attempts = 5;
        escalated.labour_cost_micros = 1_000_000;
        let mut assisted = row(1, SMALL, Assisted, 3, 900_000);
        assisted.attempts = 4;
        assisted.retry_cost_micros = 100_000;
        let abandoned = row(1, SMALL, Abandoned, 2, 700_000);
        let pending = row(1, SMALL, Pending, 50, 9_000_000);
        let mut before = row(1, SMALL, Succeeded, 10, 2_000_000);
        before.attempts = 20;
        before.retry_cost_micros = 1_000_000;
        let levers = measure(&[done, escalated, assisted, abandoned, pending], &[before]);
        let failed = &levers.failed_runs;
        // Assisted work came to an end: only its retries are a failure's cost.
        assert_eq!(failed.finished_retries, Micros(400_000 + 100_000));
        assert_eq!(failed.tax, Micros(400_000 + 100_000 + 1_600_000 + 700_000));
        assert_eq!(failed.tax_before, Micros(1_000_000));
        assert_eq!(failed.attempts, 14 + 5 + 4 + 2);
        assert_eq!(failed.failed_attempts, 4 + 5 + 1 + 2);
        assert_eq!(failed.failed_share_before, Some(0.5));
        assert_eq!(
            failed.by_status,
            vec![
                (Escalated, 2, Micros(1_600_000)),
                (Abandoned, 2, Micros(700_000))
            ]
        );
    }

    #[test]
    fn caching_reads_the_share_of_input_served_from_cache() {
        let mut now = row(1, SMALL, TaskStatus::Succeeded, 10, 2_000_000);
        now.cache_read_tokens = 2_500;
        now.cache_cost_micros = 30_000;
        now.cache_saved_micros = 270_000;
        now.cache_unpriced_tokens = 500;
        let mut pending = row(1, SMALL, TaskStatus::Pending, 10, 2_000_000);
        pending.cache_saved_micros = 1_000_000;
        let mut before = row(1, SMALL, TaskStatus::Failed, 10, 2_000_000);
        before.cache_saved_micros = -5_000;
        let levers = measure(&[now, pending], &[before]);
        assert_eq!(levers.caching.share, Some(0.25));
        assert_eq!(levers.caching.share_before, Some(0.0));
        assert_eq!(levers.caching.cost, Micros(30_000));
        assert_eq!(levers.caching.saved, Micros(270_000));
        assert_eq!(levers.caching.saved_before, Micros(-5_000));
        assert_eq!(levers.caching.unpriced_tokens, 500);
    }
}
