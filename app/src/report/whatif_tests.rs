use super::*;
use crate::domain::status::ReviewMethod;
use crate::model::{PlatformCost, TaskRollup, TaskType, Workflow};
use crate::report::Window;
use TaskStatus::{Escalated, Failed, Succeeded};
use proptest::prelude::*;

const LARGE: &str = "openai/large";
const SMALL: &str = "openai/small";

fn row(task_type_id: i64, model: &str, status: TaskStatus, tasks: i64, cost: i64) -> TaskRollup {
    TaskRollup::sample(task_type_id, model, status, tasks, cost)
}

fn task_type(id: i64, name: &str) -> TaskType {
    TaskType {
        id,
        workflow_id: 1,
        slug: name.to_lowercase(),
        name: name.to_owned(),
        user_goal: String::new(),
        pass_condition: String::new(),
        review_method: ReviewMethod::Automatic,
        created_at: 0,
    }
}

fn price(model: &str, input: i64, cache_read: i64) -> Price {
    let (provider, name) = model.split_once('/').unwrap();
    Price {
        id: 1,
        provider: provider.into(),
        model: name.into(),
        input_micros_per_mtok: input,
        output_micros_per_mtok: 0,
        cache_read_micros_per_mtok: cache_read,
        cache_write_micros_per_mtok: 0,
        reasoning_micros_per_mtok: 0,
        audio_input_micros_per_mtok: None,
        image_input_micros_per_mtok: None,
        effective_from: 0,
        effective_to: None,
        source: String::new(),
        checked_on: String::new(),
        created_at: 0,
    }
}

fn run(
    rows: &[TaskRollup],
    platform: &[PlatformCost],
    scenario: &Scenario,
    prices: &[Price],
) -> WhatIf {
    let workflows = [Workflow::sample(1, 1)];
    let task_types = [task_type(1, "Tickets"), task_type(2, "Refunds")];
    let ledger = Ledger {
        window: Window::ending(100, 30),
        workflows: &workflows,
        teams: &[],
        task_types: &task_types,
        config_versions: &[],
        platform_costs: platform,
        unattributed: &[],
        baselines: &[],
        rows,
    };
    project(&ledger, 1, scenario, prices, 0).unwrap()
}

fn projected(what: WhatIf) -> Projection {
    match what {
        WhatIf::Projected(p) => *p,
        WhatIf::Refused { refusals: r, .. } => panic!("refused: {r:?}"),
    }
}

fn dollars(cost: Option<Micros>) -> String {
    cost.unwrap().to_string()
}

/// The worked example: version 1 spends $1.01 an attempt and 28% of its tickets fail; its
/// large model did 9,000 of them and a trial of the small one 1,000, at $0.35 each.
fn version_one() -> Vec<TaskRollup> {
    vec![
        row(1, LARGE, Succeeded, 6_480, 6_480 * 1_083_333),
        row(1, LARGE, Failed, 2_520, 9_750_000_000 - 6_480 * 1_083_333),
        row(1, SMALL, Succeeded, 720, 720 * 350_000),
        row(1, SMALL, Failed, 280, 280 * 350_000),
    ]
}

#[test]
fn the_worked_example_costs_a_dollar_forty_then_thirty_eight_cents_a_finished_ticket() {
    let v1 = projected(run(&version_one(), &[], &Scenario::default(), &[]));
    assert_eq!(v1.today.decided, 10_000);
    assert_eq!(dollars(v1.today.cost_per_attempted), "$1.01");
    assert_eq!(v1.today.success_rate, Some(0.72));
    assert_eq!(dollars(v1.today.cpst), "$1.40");
    // Version 2: every ticket on the small model, 9% failing.
    let v2_rows = [
        row(1, SMALL, Succeeded, 9_100, 9_100 * 350_000),
        row(1, SMALL, Failed, 900, 900 * 350_000),
    ];
    let v2 = projected(run(&v2_rows, &[], &Scenario::default(), &[]));
    assert_eq!(dollars(v2.today.cost_per_attempted), "$0.35");
    assert_eq!(dollars(v2.today.cpst), "$0.38");
    // Version 1 with version 2's routing and failure rate lands on version 2.
    let scenario = Scenario {
        routes: vec![Reroute {
            task_type_id: 1,
            model: SMALL.into(),
        }],
        failure_bps: Some(900),
        ..Scenario::default()
    };
    let what_if = projected(run(&version_one(), &[], &scenario, &[]));
    assert_eq!(
        what_if.projected.cost_per_attempted,
        v2.today.cost_per_attempted
    );
    assert_eq!(what_if.projected.cpst, v2.today.cpst);
    let (low, high) = (what_if.cpst().low.unwrap(), what_if.cpst().high.unwrap());
    assert!(low < v2.today.cpst.unwrap() && v2.today.cpst.unwrap() < high);
    assert!(
        what_if.success_rate().low.unwrap() < 0.91 && 0.91 < what_if.success_rate().high.unwrap()
    );
    assert_eq!(
        what_if.projected.monthly,
        what_if.today.monthly.scale(35, 101).unwrap()
    );
    assert!(what_if.assumptions[0].contains("Every Tickets task runs on openai/small"));
}

#[test]
fn routing_to_a_model_with_too_few_tasks_says_how_few_instead_of_a_number() {
    let mut rows = version_one();
    rows.truncate(2);
    rows.push(row(1, SMALL, Succeeded, 10, 3_500_000));
    rows.push(row(1, SMALL, Failed, 2, 700_000));
    let scenario = Scenario {
        routes: vec![Reroute {
            task_type_id: 1,
            model: SMALL.into(),
        }],
        ..Scenario::default()
    };
    let WhatIf::Refused { refusals, .. } = run(&rows, &[], &scenario, &[]) else {
        panic!("projected without evidence");
    };
    assert_eq!(refusals[0].lever, "Route Tickets to openai/small");
    assert_eq!(refusals[0].reason, "not enough evidence: 12 tasks, need 30");
}

#[test]
fn a_lower_failure_rate_prices_rescued_tasks_as_succeeding_ones() {
    // 60 of 100 succeed at $1 each; the 40 others cost $3 each (escalated to a person).
    let rows = [
        row(1, LARGE, Succeeded, 60, 60_000_000),
        row(1, LARGE, Escalated, 40, 120_000_000),
    ];
    let scenario = Scenario {
        failure_bps: Some(1_000),
        ..Scenario::default()
    };
    let what_if = projected(run(&rows, &[], &scenario, &[]));
    // 90 at $1 and 10 at $3: $120 for 90 successes.
    assert_eq!(what_if.projected.total, Micros(120_000_000));
    assert_eq!(what_if.projected.cpst, Some(Micros(1_333_333)));
    assert_eq!(what_if.projected.success_rate, Some(0.9));
}

#[test]
fn cutting_retries_lowers_only_their_cost() {
    let mut succeeded = row(1, LARGE, Succeeded, 50, 50_000_000);
    succeeded.retry_cost_micros = 20_000_000;
    let scenario = Scenario {
        retry_cut_bps: Some(5_000),
        ..Scenario::default()
    };
    let what_if = projected(run(&[succeeded], &[], &scenario, &[]));
    assert_eq!(what_if.today.total, Micros(70_000_000));
    assert_eq!(what_if.projected.total, Micros(60_000_000));
    assert_eq!(what_if.projected.success_rate, Some(1.0));
}

#[test]
fn a_cache_hit_share_moves_input_tokens_to_the_cache_price_and_needs_a_price() {
    let mut succeeded = row(1, LARGE, Succeeded, 100, 100_000_000);
    succeeded.input_tokens = 10_000_000;
    let scenario = Scenario {
        cache_share_bps: Some(5_000),
        ..Scenario::default()
    };
    // $3 a million input tokens, $0.30 cached: 5M tokens move, saving $13.50.
    let prices = [price(LARGE, 3_000_000, 300_000)];
    let what_if = projected(run(&[succeeded.clone()], &[], &scenario, &prices));
    assert_eq!(what_if.projected.total, Micros(86_500_000));
    let WhatIf::Refused { refusals, .. } = run(&[succeeded], &[], &scenario, &[]) else {
        panic!("a token lever without a price");
    };
    assert_eq!(refusals[0].lever, "Input tokens on openai/large");
    // Fewer input tokens per call save at the input price.
    let mut succeeded = row(1, LARGE, Succeeded, 100, 100_000_000);
    succeeded.input_tokens = 10_000_000;
    let fewer = Scenario {
        input_change_bps: Some(-2_000),
        ..Scenario::default()
    };
    let what_if = projected(run(&[succeeded], &[], &fewer, &prices));
    assert_eq!(what_if.projected.total, Micros(94_000_000));
}

fn statuses() -> impl Strategy<Value = TaskStatus> {
    prop_oneof![
        Just(Succeeded),
        Just(Failed),
        Just(Escalated),
        Just(TaskStatus::Assisted),
        Just(TaskStatus::Pending),
    ]
}

fn rows() -> impl Strategy<Value = Vec<TaskRollup>> {
    let one = (
        1i64..=2,
        prop_oneof![Just(LARGE), Just(SMALL), Just("")],
        statuses(),
        1i64..500,
        0i64..50_000_000,
        0i64..5_000_000,
    )
        .prop_map(|(tt, model, status, tasks, cost, labour)| {
            let mut r = row(tt, model, status, tasks, cost);
            r.labour_cost_micros = labour;
            r.retry_cost_micros = cost / 7;
            r
        });
    prop::collection::vec(one, 0..12)
}

proptest! {
    #[test]
    fn a_what_if_that_moves_nothing_reproduces_todays_figures(
        rows in rows(),
        monthly in 0i64..5_000_000_000,
    ) {
        let platform = [PlatformCost {
            id: 1,
            name: "gateway".into(),
            workflow_id: Some(1),
            team_id: None,
            monthly_micros: Micros(monthly),
            effective_from: 0,
            effective_to: None,
            created_at: 0,
        }];
        let what_if = projected(run(&rows, &platform, &Scenario::default(), &[]));
        prop_assert_eq!(what_if.projected, what_if.today);
    }

    #[test]
    fn a_cheaper_model_with_the_same_success_rate_never_raises_cpst(
        (won, lost) in (1u64..200, 0u64..200),
        times in 1u64..4,
        (won_cost, lost_cost) in (1i64..5_000_000, 1i64..5_000_000),
        (won_cheaper, lost_cheaper) in (0i64..5_000_000, 0i64..5_000_000),
    ) {
        prop_assume!((won + lost) * times >= MIN_EVIDENCE);
        let n = |count: u64| count as i64;
        let small_won = n(won * times);
        let small_lost = n(lost * times);
        let rows = [
            row(1, LARGE, Succeeded, n(won), n(won) * won_cost),
            row(1, LARGE, Failed, n(lost), n(lost) * lost_cost),
            row(1, SMALL, Succeeded, small_won, small_won * (won_cost - won_cheaper).max(0)),
            row(1, SMALL, Failed, small_lost, small_lost * (lost_cost - lost_cheaper).max(0)),
        ];
        let scenario = Scenario {
            routes: vec![Reroute { task_type_id: 1, model: SMALL.into() }],
            ..Scenario::default()
        };
        let what_if = projected(run(&rows, &[], &scenario, &[]));
        prop_assert!(what_if.projected.cpst <= what_if.today.cpst);
    }
}
