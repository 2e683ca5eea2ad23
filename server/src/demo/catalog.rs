//! The demo's workflows, written as data: teams, task types, rules, and two configurations
//! each (one better, one worse), with the call chains and odds they run with.

use app::domain::rule::Rule;
use app::domain::status::ReviewMethod;

pub struct TeamSpec {
    pub slug: &'static str,
    pub name: &'static str,
    pub labour_rate_dollars: i64,
}

pub const TEAMS: [TeamSpec; 3] = [
    TeamSpec {
        slug: "customer-ops",
        name: "Customer Operations",
        labour_rate_dollars: 30,
    },
    TeamSpec {
        slug: "finance-ops",
        name: "Finance Operations",
        labour_rate_dollars: 45,
    },
    TeamSpec {
        slug: "strategy",
        name: "Strategy Office",
        labour_rate_dollars: 85,
    },
];

pub struct TaskTypeSpec {
    pub slug: &'static str,
    pub name: &'static str,
    pub user_goal: &'static str,
    pub pass_condition: &'static str,
    pub review_method: ReviewMethod,
    pub segments: &'static [&'static str],
    pub weight: u32,
    /// Makes the work harder: scales the failure odds.
    pub difficulty: f64,
}

/// One call in an attempt's chain.
pub struct StepSpec {
    pub step: &'static str,
    pub kind: app::domain::CallKind,
    /// (provider, model, share of traffic) for model calls; tools ignore it.
    pub models: &'static [(&'static str, &'static str, u32)],
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// Share of input tokens read from the prompt cache.
    pub cached_share: f64,
    pub latency_ms: i64,
    /// Fixed cost of a tool call, in micro-dollars (a paid API, a search).
    pub tool_cost_micros: i64,
}

pub struct VersionSpec {
    pub label: &'static str,
    pub description: &'static str,
    pub steps: &'static [StepSpec],
    /// Odds that one attempt succeeds.
    pub attempt_success: f64,
    /// Odds that a completed task was not really finished (reopened, rejected, mislabelled).
    pub false_finish: f64,
    /// Odds that a graded success turns out to need factual repair.
    pub assisted: f64,
    /// Seconds a person spends on each task outside the review sample.
    pub handling_seconds: i64,
    /// (task type, model, odds): a task of the type whose finishing attempt drafted on the model
    /// is reopened within 48 hours with these odds, on top of `false_finish`. Routing shows it.
    pub reopened_on: &'static [(&'static str, &'static str, f64)],
}

pub struct WorkflowSpec {
    pub slug: &'static str,
    pub name: &'static str,
    pub team: usize,
    pub description: &'static str,
    pub budget_cents: i64,
    pub quality_target_bp: i64,
    pub gate_min_sample: i64,
    /// The p95 task time a model must keep there to be named the cheapest that meets the bar.
    pub latency_budget_ms: Option<i64>,
    pub share: u32,
    pub task_types: &'static [TaskTypeSpec],
    pub versions: [VersionSpec; 2],
    /// Day (from the start of the data) the second configuration takes over.
    pub switch_day: i64,
    pub escalation_reasons: &'static [(&'static str, u32)],
    pub monthly_platform_dollars: i64,
}

use app::domain::CallKind::{Model, Retrieval, Tool};

const SONNET: (&str, &str, u32) = ("anthropic", "claude-sonnet-4-5", 1);
const HAIKU: (&str, &str, u32) = ("anthropic", "claude-haiku-4-5", 4);
const MINI: (&str, &str, u32) = ("openai", "gpt-4.1-mini", 1);
const NONE: &[(&str, &str, u32)] = &[];

pub const WORKFLOWS: [WorkflowSpec; 4] = [
    WorkflowSpec {
        slug: "support-triage",
        name: "Support triage",
        team: 0,
        description: "Classifies incoming tickets and drafts the first reply for an agent to send.",
        budget_cents: 100,
        quality_target_bp: 8_500,
        gate_min_sample: 400,
        latency_budget_ms: Some(10_000),
        share: 45,
        task_types: &[
            TaskTypeSpec {
                slug: "password-reset",
                name: "Password reset",
                user_goal: "Get a locked-out customer back into their account",
                pass_condition: "The reply is sent without factual edits and the ticket is not reopened within 48 hours",
                review_method: ReviewMethod::Both,
                segments: &["self-serve", "enterprise"],
                weight: 5,
                difficulty: 0.5,
            },
            TaskTypeSpec {
                slug: "billing-question",
                name: "Billing question",
                user_goal: "Answer a question about a charge or an invoice",
                pass_condition: "Correct category, correct amounts, and no reopen within 48 hours",
                review_method: ReviewMethod::Both,
                segments: &["self-serve", "enterprise"],
                weight: 3,
                difficulty: 1.0,
            },
            TaskTypeSpec {
                slug: "complex-case",
                name: "Complex case",
                user_goal: "Resolve a multi-step account problem",
                pass_condition: "The customer's problem is solved in the first reply and not reopened within 48 hours",
                review_method: ReviewMethod::Human,
                segments: &["enterprise"],
                weight: 2,
                difficulty: 2.0,
            },
        ],
        versions: [
            VersionSpec {
                label: "v1-large-model",
                description: "Every ticket to the large model; fifteen knowledge-base passages per ticket.",
                steps: &[
                    StepSpec {
                        step: "retriever",
                        kind: Retrieval,
                        models: NONE,
                        input_tokens: 0,
                        output_tokens: 0,
                        cached_share: 0.0,
                        latency_ms: 350,
                        tool_cost_micros: 400,
                    },
                    StepSpec {
                        step: "drafter",
                        kind: Model,
                        models: &[SONNET],
                        input_tokens: 18_000,
                        output_tokens: 450,
                        cached_share: 0.1,
                        latency_ms: 6_500,
                        tool_cost_micros: 0,
                    },
                    StepSpec {
                        step: "verifier",
                        kind: Model,
                        models: &[SONNET],
                        input_tokens: 2_500,
                        output_tokens: 120,
                        cached_share: 0.0,
                        latency_ms: 1_800,
                        tool_cost_micros: 0,
                    },
                ],
                attempt_success: 0.62,
                false_finish: 0.07,
                assisted: 0.10,
                handling_seconds: 45,
                reopened_on: &[],
            },
            VersionSpec {
                label: "v2-routed-reranked",
                description: "A classifier routes routine tickets to a small model; three reranked passages; cached system prefix.",
                steps: &[
                    StepSpec {
                        step: "router",
                        kind: Model,
                        models: &[("anthropic", "claude-haiku-4-5", 1)],
                        input_tokens: 900,
                        output_tokens: 20,
                        cached_share: 0.7,
                        latency_ms: 400,
                        tool_cost_micros: 0,
                    },
                    StepSpec {
                        step: "retriever",
                        kind: Retrieval,
                        models: NONE,
                        input_tokens: 0,
                        output_tokens: 0,
                        cached_share: 0.0,
                        latency_ms: 420,
                        tool_cost_micros: 500,
                    },
                    StepSpec {
                        step: "drafter",
                        kind: Model,
                        models: &[HAIKU, SONNET],
                        input_tokens: 4_000,
                        output_tokens: 380,
                        cached_share: 0.5,
                        latency_ms: 2_600,
                        tool_cost_micros: 0,
                    },
                ],
                attempt_success: 0.80,
                false_finish: 0.05,
                assisted: 0.08,
                handling_seconds: 45,
                // The classifier still sends some resets to the large model, whose long
                // replies customers reopen: the small model does them better and for less.
                reopened_on: &[("password-reset", "claude-sonnet-4-5", 0.3)],
            },
        ],
        switch_day: 45,
        escalation_reasons: &[
            ("Policy exception needed", 5),
            ("Missing order data", 4),
            ("Angry customer", 3),
            ("Tool timeout", 2),
            ("Language not supported", 1),
        ],
        monthly_platform_dollars: 400,
    },
    WorkflowSpec {
        slug: "invoice-clearing",
        name: "Invoice clearing",
        team: 1,
        description: "Extracts invoice fields, matches the purchase order and proposes the ledger code.",
        budget_cents: 90,
        quality_target_bp: 9_000,
        gate_min_sample: 300,
        latency_budget_ms: None,
        share: 35,
        task_types: &[
            TaskTypeSpec {
                slug: "po-match",
                name: "PO-backed invoice",
                user_goal: "Clear an invoice against its purchase order",
                pass_condition: "Vendor, amount, currency and ledger code present; ledger code matches the approved one",
                review_method: ReviewMethod::Automatic,
                segments: &["domestic", "international"],
                weight: 7,
                difficulty: 0.6,
            },
            TaskTypeSpec {
                slug: "non-po",
                name: "Invoice without PO",
                user_goal: "Code an invoice that has no purchase order",
                pass_condition: "Ledger code matches the approved one and every required field is present",
                review_method: ReviewMethod::Both,
                segments: &["domestic", "international"],
                weight: 3,
                difficulty: 1.6,
            },
        ],
        versions: [
            VersionSpec {
                label: "v1-full-prompt",
                description: "Full coding policy and twelve worked examples in the prompt.",
                steps: &[
                    StepSpec {
                        step: "extractor",
                        kind: Model,
                        models: &[MINI],
                        input_tokens: 6_500,
                        output_tokens: 350,
                        cached_share: 0.6,
                        latency_ms: 2_100,
                        tool_cost_micros: 0,
                    },
                    StepSpec {
                        step: "erp-lookup",
                        kind: Tool,
                        models: NONE,
                        input_tokens: 0,
                        output_tokens: 0,
                        cached_share: 0.0,
                        latency_ms: 600,
                        tool_cost_micros: 1_000,
                    },
                    StepSpec {
                        step: "coder",
                        kind: Model,
                        models: &[MINI],
                        input_tokens: 3_000,
                        output_tokens: 120,
                        cached_share: 0.5,
                        latency_ms: 1_200,
                        tool_cost_micros: 0,
                    },
                ],
                attempt_success: 0.90,
                false_finish: 0.03,
                assisted: 0.05,
                handling_seconds: 20,
                reopened_on: &[],
            },
            VersionSpec {
                label: "v2-trimmed-prompt",
                description: "Prompt trimmed to cut tokens: policy summary only, three examples.",
                steps: &[
                    StepSpec {
                        step: "extractor",
                        kind: Model,
                        models: &[MINI],
                        input_tokens: 2_600,
                        output_tokens: 300,
                        cached_share: 0.5,
                        latency_ms: 1_500,
                        tool_cost_micros: 0,
                    },
                    StepSpec {
                        step: "erp-lookup",
                        kind: Tool,
                        models: NONE,
                        input_tokens: 0,
                        output_tokens: 0,
                        cached_share: 0.0,
                        latency_ms: 600,
                        tool_cost_micros: 1_000,
                    },
                    StepSpec {
                        step: "coder",
                        kind: Model,
                        models: &[MINI],
                        input_tokens: 1_200,
                        output_tokens: 110,
                        cached_share: 0.4,
                        latency_ms: 900,
                        tool_cost_micros: 0,
                    },
                ],
                attempt_success: 0.78,
                false_finish: 0.09,
                assisted: 0.12,
                handling_seconds: 55,
                reopened_on: &[],
            },
        ],
        switch_day: 50,
        escalation_reasons: &[
            ("Vendor not in master data", 5),
            ("Amount mismatch with PO", 4),
            ("Currency not supported", 2),
            ("Duplicate invoice suspected", 2),
        ],
        monthly_platform_dollars: 250,
    },
    WorkflowSpec {
        slug: "memo-draft",
        name: "Memo drafting",
        team: 2,
        description: "Drafts board and customer memos from meeting notes for a person to approve.",
        budget_cents: 800,
        quality_target_bp: 8_000,
        gate_min_sample: 150,
        latency_budget_ms: None,
        share: 12,
        task_types: &[
            TaskTypeSpec {
                slug: "board-memo",
                name: "Board memo",
                user_goal: "Turn meeting notes into a memo the board can read",
                pass_condition: "Approved by its requester with no factual edits",
                review_method: ReviewMethod::Human,
                segments: &["internal"],
                weight: 4,
                difficulty: 1.2,
            },
            TaskTypeSpec {
                slug: "customer-update",
                name: "Customer update",
                user_goal: "Write a status update a customer can receive as is",
                pass_condition: "Sent to the customer without factual edits",
                review_method: ReviewMethod::Human,
                segments: &["external"],
                weight: 6,
                difficulty: 0.9,
            },
        ],
        versions: [
            VersionSpec {
                label: "v1-single-draft",
                description: "One long draft from a mid-size model.",
                steps: &[
                    StepSpec {
                        step: "retriever",
                        kind: Retrieval,
                        models: NONE,
                        input_tokens: 0,
                        output_tokens: 0,
                        cached_share: 0.0,
                        latency_ms: 500,
                        tool_cost_micros: 300,
                    },
                    StepSpec {
                        step: "drafter",
                        kind: Model,
                        models: &[SONNET],
                        input_tokens: 14_000,
                        output_tokens: 1_800,
                        cached_share: 0.2,
                        latency_ms: 21_000,
                        tool_cost_micros: 0,
                    },
                ],
                attempt_success: 0.75,
                false_finish: 0.18,
                assisted: 0.15,
                handling_seconds: 420,
                reopened_on: &[],
            },
            VersionSpec {
                label: "v2-draft-critic",
                description: "Draft, then a critic pass with a cheaper model and one revision.",
                steps: &[
                    StepSpec {
                        step: "retriever",
                        kind: Retrieval,
                        models: NONE,
                        input_tokens: 0,
                        output_tokens: 0,
                        cached_share: 0.0,
                        latency_ms: 500,
                        tool_cost_micros: 300,
                    },
                    StepSpec {
                        step: "drafter",
                        kind: Model,
                        models: &[SONNET],
                        input_tokens: 12_000,
                        output_tokens: 1_600,
                        cached_share: 0.3,
                        latency_ms: 19_000,
                        tool_cost_micros: 0,
                    },
                    StepSpec {
                        step: "critic",
                        kind: Model,
                        models: &[("openai", "gpt-5-mini", 1)],
                        input_tokens: 3_500,
                        output_tokens: 400,
                        cached_share: 0.0,
                        latency_ms: 6_000,
                        tool_cost_micros: 0,
                    },
                    StepSpec {
                        step: "reviser",
                        kind: Model,
                        models: &[SONNET],
                        input_tokens: 4_500,
                        output_tokens: 1_500,
                        cached_share: 0.4,
                        latency_ms: 15_000,
                        tool_cost_micros: 0,
                    },
                ],
                attempt_success: 0.85,
                false_finish: 0.08,
                assisted: 0.10,
                handling_seconds: 240,
                reopened_on: &[],
            },
        ],
        switch_day: 40,
        escalation_reasons: &[
            ("Confidential source excluded", 3),
            ("Notes incomplete", 4),
            ("Legal review required", 2),
        ],
        monthly_platform_dollars: 150,
    },
    WorkflowSpec {
        slug: "refund-replies",
        name: "Refund replies",
        team: 0,
        description: "Writes structured refund decisions that the billing system applies directly.",
        budget_cents: 50,
        quality_target_bp: 9_000,
        gate_min_sample: 300,
        latency_budget_ms: None,
        share: 8,
        task_types: &[TaskTypeSpec {
            slug: "refund-decision",
            name: "Refund decision",
            user_goal: "Decide a refund request and produce the billing instruction",
            pass_condition: "The instruction validates against the billing schema and the decision matches policy",
            review_method: ReviewMethod::Automatic,
            segments: &["self-serve"],
            weight: 1,
            difficulty: 1.0,
        }],
        versions: [
            VersionSpec {
                label: "v1-gemini-flash",
                description: "Gemini 2.5 Flash with schema-constrained output.",
                steps: &[StepSpec {
                    step: "decider",
                    kind: Model,
                    models: &[("gcp.gemini", "gemini-2.5-flash", 1)],
                    input_tokens: 3_200,
                    output_tokens: 260,
                    cached_share: 0.5,
                    latency_ms: 1_400,
                    tool_cost_micros: 0,
                }],
                attempt_success: 0.88,
                false_finish: 0.02,
                assisted: 0.03,
                handling_seconds: 0,
                reopened_on: &[],
            },
            VersionSpec {
                label: "v2-deepseek-chat",
                description: "DeepSeek chat: a fraction of the token price, much weaker schema adherence.",
                steps: &[StepSpec {
                    step: "decider",
                    kind: Model,
                    models: &[("deepseek", "deepseek-chat", 1)],
                    input_tokens: 3_200,
                    output_tokens: 300,
                    cached_share: 0.5,
                    latency_ms: 2_400,
                    tool_cost_micros: 0,
                }],
                attempt_success: 0.4,
                false_finish: 0.15,
                assisted: 0.03,
                handling_seconds: 0,
                reopened_on: &[],
            },
        ],
        // Six days before the data ends, so the last week's CPST regression (and the alert
        // that names this change) shows on the alerts page out of the box.
        switch_day: 84,
        escalation_reasons: &[("Refund above approval limit", 4), ("Fraud signal", 2)],
        monthly_platform_dollars: 0,
    },
];

/// The human baseline of a demo task type: minutes a person takes unaided, an outcome-priced
/// vendor's price per resolved task where there is one, and where the figures come from.
/// Customer updates have none, to show a task type without one.
pub fn baseline_for(task_type: &str) -> Option<(i64, Option<i64>, &'static str)> {
    const SUPPORT: &str = "support time study, September 2026";
    const FINANCE: &str = "accounts payable time study, August 2026";
    match task_type {
        "password-reset" => Some((4 * 60, Some(990_000), SUPPORT)),
        "billing-question" => Some((7 * 60, Some(990_000), SUPPORT)),
        "complex-case" => Some((25 * 60, None, SUPPORT)),
        "po-match" => Some((5 * 60, None, FINANCE)),
        "non-po" => Some((12 * 60, None, FINANCE)),
        "board-memo" => Some((90 * 60, None, "strategy office estimate")),
        "refund-decision" => Some((6 * 60, Some(990_000), SUPPORT)),
        _ => None,
    }
}

/// The success rule each demo workflow's task types are measured by.
pub fn rule_for(workflow: &str, task_type: &str) -> Rule {
    match (workflow, task_type) {
        ("support-triage", _) => Rule::All {
            rules: vec![
                Rule::FieldsPresent {
                    fields: vec!["category".into(), "reply".into()],
                },
                Rule::NotReopenedWithin { hours: 48 },
            ],
        },
        ("invoice-clearing", _) => Rule::All {
            rules: vec![
                Rule::FieldsPresent {
                    fields: vec![
                        "vendor".into(),
                        "amount".into(),
                        "currency".into(),
                        "gl_code".into(),
                    ],
                },
                Rule::ExactMatch {
                    field: "gl_code".into(),
                },
            ],
        },
        ("refund-replies", _) => Rule::SchemaValid {
            schema: serde_json::json!({
                "type": "object",
                "required": ["decision", "amount_cents"],
                "properties": {
                    "decision": {"enum": ["approve", "deny", "partial"]},
                    "amount_cents": {"type": "integer", "minimum": 0}
                }
            }),
        },
        _ => Rule::HumanAccepted {},
    }
}
