//! Storing one batch in one transaction: each item created, updated or found unchanged by its
//! sender id and content hash, or refused with the field at fault. Tasks and attempts take the
//! sender's last word (their status moves on); calls, outcomes, evaluations and grades are
//! facts, so the
//! same id with other content is a conflict rather than a silent rewrite of money.

use super::wire::{self, AttemptIn, CallIn, EvaluationIn, GradeIn, ItemError, OutcomeIn, TaskIn};
use crate::caller::{ApiCaller, Unseen};
use app::db::catalog::Catalog;
use app::db::task::Stored;
use app::db::{DbResult, Tx, config_version, evaluation, grade, outcome, queue, task};
use app::domain::Micros;
use app::domain::pricing::{Rates, cost_call};
use app::domain::status::{CallStatus, ReportedStatus};
use app::domain::time::day_of;
use app::model::{Call, NewTask, Price, Workflow};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// What happened to one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    Rejected {
        status: u16,
        code: &'static str,
        error: ItemError,
    },
}

impl Outcome {
    fn invalid(error: ItemError) -> Outcome {
        Outcome::Rejected {
            status: 422,
            code: "invalid_item",
            error,
        }
    }
}

/// The batch's context: who sends, what exists, and what the batch touched.
pub struct Ingest<'a> {
    pub catalog: &'a Catalog,
    pub caller: &'a ApiCaller,
    pub now: i64,
    /// Tasks whose verdict may have changed.
    pub tasks: BTreeSet<i64>,
    /// (workflow, day) slices whose rollups must be refreshed.
    pub slices: BTreeSet<(i64, i64)>,
    /// (workflow, task) of tasks whose cost a call joining them changed, outside their task's
    /// lock: their day is read when the mark is folded, after this batch commits, so that a
    /// batch moving the task's start meanwhile cannot leave the call on a day not refreshed.
    pub cost_tasks: BTreeSet<(i64, i64)>,
    /// Tasks looked up or written in this batch by (workflow, sender id); `None`: not stored.
    tasks_known: HashMap<(i64, String), Option<Stored>>,
    /// Attempts looked up or written in this batch by (workflow, correlation id); `None`: not
    /// stored.
    attempts_known: HashMap<(i64, String), Option<Stored>>,
    /// The attempts of tasks this batch numbered attempts for: (correlation id, number).
    numbers: HashMap<i64, Vec<(String, i64)>>,
    /// Tasks created by this batch, by workflow: outcome events and evaluation results sent
    /// before them are claimed
    /// once the batch's tasks are stored.
    created: BTreeMap<i64, Vec<String>>,
    /// Configuration versions ensured by this batch: id and the earliest start it was given.
    versions: HashMap<(i64, String), (i64, i64)>,
    /// Tasks sampled in the window per (workflow, task type, segment), as of this batch.
    strata: HashMap<(i64, Option<i64>, String), u64>,
    /// New tasks checked and waiting to be inserted together, in the batch's order.
    new_tasks: Vec<(Workflow, NewTask)>,
    /// The (workflow, sender id) of each of `new_tasks`.
    new_task_keys: HashSet<(i64, String)>,
    /// New attempts checked and waiting to be inserted together, by (workflow, correlation
    /// id), each with its task's start.
    new_attempts: BTreeMap<(i64, String), (task::NewAttempt, Option<i64>)>,
    /// The first instant of the first day not sealed under the retention setting (read once
    /// the batch holds its locks); `i64::MIN` while none is.
    kept_from: i64,
}

/// The advisory lock keys of a batch, sorted and without repeats: one per task and one per
/// correlation id it names, each the first 8 bytes of a SHA-256 of the workflow, the kind of
/// id and the id, the same in every server process.
fn lock_keys(
    tasks: &BTreeMap<i64, Vec<&str>>,
    correlations: &BTreeMap<i64, Vec<&str>>,
) -> Vec<i64> {
    let mut keys: Vec<i64> = [(b't', tasks), (b'c', correlations)]
        .into_iter()
        .flat_map(|(kind, ids)| {
            ids.iter().flat_map(move |(workflow_id, ids)| {
                ids.iter().map(move |id| {
                    let mut hasher = Sha256::new();
                    hasher.update(workflow_id.to_le_bytes());
                    hasher.update([kind]);
                    hasher.update(id.as_bytes());
                    let digest = hasher.finalize();
                    i64::from_le_bytes(digest[..8].try_into().expect("a digest has 32 bytes"))
                })
            })
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

fn content_hash(item: &Value) -> String {
    // serde_json keeps object keys sorted, so equal items always serialise alike.
    let mut hasher = Sha256::new();
    // Written straight into the digest, without a copy of the item's text.
    serde_json::to_writer(&mut hasher, item).expect("hashing cannot fail");
    hex::encode(hasher.finalize())
}

impl<'a> Ingest<'a> {
    pub fn new(catalog: &'a Catalog, caller: &'a ApiCaller, now: i64) -> Ingest<'a> {
        Ingest {
            catalog,
            caller,
            now,
            tasks: BTreeSet::new(),
            slices: BTreeSet::new(),
            cost_tasks: BTreeSet::new(),
            tasks_known: HashMap::new(),
            attempts_known: HashMap::new(),
            numbers: HashMap::new(),
            created: BTreeMap::new(),
            versions: HashMap::new(),
            strata: HashMap::new(),
            new_tasks: Vec::new(),
            new_task_keys: HashSet::new(),
            new_attempts: BTreeMap::new(),
            kept_from: i64::MIN,
        }
    }

    /// The refusal of an item whose `field` (its start, or its task's) falls on a day sealed
    /// under the retention setting: that day's figures are final and its calls removed.
    pub fn sealed(&self, field: &str, at: Option<i64>) -> Option<Outcome> {
        let at = at?;
        (at < self.kept_from).then(|| Outcome::Rejected {
            status: 422,
            code: "sealed_day",
            error: ItemError::new(
                field,
                format!(
                    "falls before {}: the days before it are sealed under the retention setting (their raw calls are removed and their figures final), so nothing that starts on them is stored",
                    app::domain::time::format_day(day_of(self.kept_from))
                ),
            ),
        })
    }

    /// Takes the batch's locks (see [`task::take_ingest_locks`]), then looks up, a few
    /// statements in all, the tasks and attempts the batch's items name, so that storing each
    /// item reads from memory. `tasks` are (workflow slug, sender id) pairs, `attempts`
    /// (workflow id, correlation id) pairs of calls already checked and (workflow slug,
    /// correlation id) pairs of attempts; names of unknown or forbidden workflows are skipped
    /// (their items are refused anyway).
    pub async fn prefetch<'i>(
        &mut self,
        tx: &mut Tx,
        tasks: impl Iterator<Item = (&'i str, &'i str)>,
        attempts: impl Iterator<Item = (&'i str, &'i str)>,
        call_attempts: impl Iterator<Item = (i64, &'i str)>,
    ) -> DbResult<()> {
        let tasks = self.by_workflow(tasks, std::iter::empty());
        let attempts = self.by_workflow(attempts, call_attempts);
        task::take_ingest_locks(tx, &lock_keys(&tasks, &attempts)).await?;
        self.kept_from = app::db::retention::kept_from_ms(tx).await?;
        for (workflow_id, ids) in tasks {
            let stored = task::stored_tasks(tx, workflow_id, &ids).await?;
            remember(&mut self.tasks_known, workflow_id, &ids, stored);
        }
        for (workflow_id, ids) in attempts {
            let stored = task::stored_attempts(tx, workflow_id, &ids).await?;
            remember(&mut self.attempts_known, workflow_id, &ids, stored);
        }
        Ok(())
    }

    /// Sender ids grouped by the id of their workflow, named by slug or already known; ids of a
    /// workflow the caller may not use are left out (their items are refused later).
    fn by_workflow<'i>(
        &self,
        named: impl Iterator<Item = (&'i str, &'i str)>,
        known: impl Iterator<Item = (i64, &'i str)>,
    ) -> BTreeMap<i64, Vec<&'i str>> {
        let mut sets: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
        let named = named.filter_map(|(slug, id)| Some((self.workflow(slug).ok()?.id, id)));
        for (workflow_id, id) in named.chain(known) {
            sets.entry(workflow_id).or_default().insert(id);
        }
        sets.into_iter()
            .map(|(workflow_id, ids)| (workflow_id, ids.into_iter().collect()))
            .collect()
    }

    /// The stored task with this sender id, from what the batch knows or else the database.
    async fn stored_task(
        &mut self,
        tx: &mut Tx,
        workflow_id: i64,
        external_id: &str,
    ) -> DbResult<Option<Stored>> {
        let key = (workflow_id, external_id.to_owned());
        if let Some(known) = self.tasks_known.get(&key) {
            return Ok(known.clone());
        }
        let stored = task::stored_task(tx, workflow_id, external_id).await?;
        self.tasks_known.insert(key, stored.clone());
        Ok(stored)
    }

    /// The stored attempt of this workflow with this correlation id, from what the batch knows
    /// or else the database.
    async fn stored_attempt(
        &mut self,
        tx: &mut Tx,
        workflow_id: i64,
        correlation_id: &str,
    ) -> DbResult<Option<Stored>> {
        let key = (workflow_id, correlation_id.to_owned());
        if let Some(known) = self.attempts_known.get(&key) {
            return Ok(known.clone());
        }
        let stored = task::stored_attempt(tx, workflow_id, correlation_id).await?;
        self.attempts_known.insert(key, stored.clone());
        Ok(stored)
    }

    /// Ties the outcome events that arrived before this batch's new tasks to them.
    pub async fn claim_outcomes(&mut self, tx: &mut Tx) -> DbResult<()> {
        for (workflow_id, ids) in std::mem::take(&mut self.created) {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            outcome::claim_outcomes_of(tx, workflow_id, &ids).await?;
            evaluation::claim_evaluations_of(tx, workflow_id, &ids).await?;
        }
        Ok(())
    }

    /// The workflow a sender names. A key with scopes gets one answer for a workflow outside
    /// them and for one that does not exist, so it cannot learn which names are taken.
    fn workflow(&self, slug: &str) -> Result<&Workflow, Outcome> {
        match self.caller.workflow(self.catalog, slug) {
            Ok(workflow) => Ok(workflow),
            Err(Unseen::Unknown) => Err(Outcome::invalid(ItemError::new(
                "workflow",
                format!("no workflow has the slug '{slug}'"),
            ))),
            Err(Unseen::OutOfScope) => Err(Outcome::Rejected {
                status: 403,
                code: "forbidden",
                error: ItemError::new(
                    "workflow",
                    format!("this API key may not write to '{slug}'"),
                ),
            }),
            Err(Unseen::Ambiguous) => Err(Outcome::invalid(ItemError::new(
                "workflow",
                app::model::ambiguous_name(slug),
            ))),
        }
    }

    fn touch(&mut self, workflow_id: i64, task_id: Option<i64>, task_started_at: Option<i64>) {
        if let (Some(task_id), Some(started_at)) = (task_id, task_started_at) {
            self.tasks.insert(task_id);
            self.slices.insert((workflow_id, day_of(started_at)));
        }
    }

    pub async fn task(&mut self, tx: &mut Tx, item: Value) -> DbResult<Outcome> {
        let hash = content_hash(&item);
        let input: TaskIn = match wire::parse(item) {
            Ok(input) => input,
            Err(e) => return Ok(Outcome::invalid(e)),
        };
        let workflow = match self.workflow(&input.workflow) {
            Ok(w) => w.clone(),
            Err(outcome) => return Ok(outcome),
        };
        let new = match self.new_task(tx, &input, &workflow, hash).await? {
            Ok(new) => new,
            Err(e) => return Ok(Outcome::invalid(e)),
        };
        if let Some(refused) = self.sealed("started_at", Some(new.started_at)) {
            return Ok(refused);
        }
        let key = (workflow.id, input.id.clone());
        if self.new_task_keys.contains(&key) {
            // The batch sends this task twice: the second is compared with the first.
            self.insert_new_tasks(tx).await?;
        }
        let stored = self.stored_task(tx, workflow.id, &input.id).await?;
        let stored_start = stored.as_ref().and_then(|s| s.task_started_at);
        if let Some(refused) = self.sealed("id", stored_start) {
            return Ok(refused);
        }
        let outcome = match stored {
            Some(stored) if stored.content_hash == new.content_hash => {
                return Ok(Outcome::Unchanged);
            }
            Some(stored) => {
                let was_finished = task::is_finished(tx, stored.id).await?;
                // The old day's rollups lose the task if its start time moved.
                self.touch(workflow.id, Some(stored.id), stored.task_started_at);
                task::update_task(tx, stored.id, &new, self.now).await?;
                self.touch(workflow.id, Some(stored.id), Some(new.started_at));
                self.tasks_known.insert(
                    (workflow.id, input.id.clone()),
                    Some(Stored {
                        content_hash: new.content_hash.clone(),
                        task_started_at: Some(new.started_at),
                        ..stored.clone()
                    }),
                );
                if !was_finished {
                    self.sample(tx, &workflow, stored.id, &new).await?;
                }
                Outcome::Updated
            }
            None => {
                self.new_task_keys.insert(key);
                self.new_tasks.push((workflow, new));
                Outcome::Created
            }
        };
        Ok(outcome)
    }

    /// Inserts the new tasks checked so far, many per statement, then records each as stored
    /// and decides, in the batch's order, whether it is sampled for review.
    pub async fn insert_new_tasks(&mut self, tx: &mut Tx) -> DbResult<()> {
        let new_tasks = std::mem::take(&mut self.new_tasks);
        self.new_task_keys.clear();
        let rows: Vec<&NewTask> = new_tasks.iter().map(|(_, new)| new).collect();
        let ids = task::insert_tasks(tx, &rows, self.now).await?;
        for (workflow, new) in &new_tasks {
            let key = (workflow.id, new.external_id.clone());
            let id = ids[&key];
            self.created
                .entry(workflow.id)
                .or_default()
                .push(new.external_id.clone());
            self.numbers.insert(id, Vec::new());
            self.tasks_known.insert(
                key,
                Some(Stored {
                    id,
                    content_hash: new.content_hash.clone(),
                    task_id: Some(id),
                    task_started_at: Some(new.started_at),
                }),
            );
            self.touch(workflow.id, Some(id), Some(new.started_at));
            self.sample(tx, workflow, id, new).await?;
        }
        Ok(())
    }

    /// A task the sender reports completed for the first time may be sampled for review:
    /// the decision is made once, so re-sending the task never samples it again.
    async fn sample(
        &mut self,
        tx: &mut Tx,
        workflow: &Workflow,
        task_id: i64,
        task: &NewTask,
    ) -> DbResult<()> {
        if task.finished_at.is_none() || task.reported_status != Some(ReportedStatus::Completed) {
            return Ok(());
        }
        let finished = queue::Finished {
            task_id,
            external_id: &task.external_id,
            task_type_id: task.task_type_id,
            segment: &task.segment,
        };
        if workflow.review_sampling_bp <= 0 {
            return Ok(());
        }
        let stratum = (workflow.id, task.task_type_id, task.segment.clone());
        let taken = match self.strata.get(&stratum) {
            Some(taken) => *taken,
            None => {
                let since = queue::sampling_window_start(workflow, self.now);
                queue::sampled_in_stratum(tx, workflow.id, task.task_type_id, &task.segment, since)
                    .await?
            }
        };
        let sampled = queue::sample_given(tx, workflow, &finished, taken, self.now).await?;
        self.strata
            .insert(stratum, taken + u64::from(sampled.is_some()));
        Ok(())
    }

    async fn new_task(
        &mut self,
        tx: &mut Tx,
        input: &TaskIn,
        workflow: &Workflow,
        hash: String,
    ) -> DbResult<Result<NewTask, ItemError>> {
        let checked = (|| {
            wire::ids(&[("id", &input.id)])?;
            wire::limits(
                &[
                    ("segment", &input.segment),
                    (
                        "escalation_reason",
                        input.escalation_reason.as_deref().unwrap_or(""),
                    ),
                ],
                wire::MAX_ID,
            )?;
            wire::limits(&[("input_summary", &input.input_summary)], wire::MAX_TEXT)?;
            wire::review_seconds(input.review_seconds)?;
            let (started_at, finished_at) =
                wire::start_and_finish(&input.started_at, input.finished_at.as_ref(), self.now)?;
            if let Some((name, _)) = input.metrics.iter().flatten().find(|(_, v)| !v.is_finite()) {
                return Err(ItemError::new(
                    &format!("metrics.{name}"),
                    "must be a finite number",
                ));
            }
            let task_type_id = match &input.task_type {
                None => None,
                Some(slug) => Some(
                    self.catalog
                        .task_types
                        .iter()
                        .find(|t| t.workflow_id == workflow.id && &t.slug == slug)
                        .ok_or_else(|| {
                            ItemError::new(
                                "task_type",
                                format!("'{}' has no task type '{slug}'", workflow.slug),
                            )
                        })?
                        .id,
                ),
            };
            let team_id = match &input.team {
                None => workflow.team_id,
                Some(slug) => self.caller.task_team(self.catalog, workflow, slug)?,
            };
            Ok(NewTask {
                external_id: input.id.clone(),
                workflow_id: workflow.id,
                task_type_id,
                team_id,
                config_version_id: None,
                segment: input.segment.clone(),
                started_at,
                finished_at,
                reported_status: Some(input.status),
                status: None,
                status_rule_id: None,
                status_reason: String::new(),
                pending_until: None,
                escalation_reason: input.escalation_reason.clone(),
                review_seconds: input.review_seconds,
                input_summary: input.input_summary.clone(),
                output: wire::json_text("output", input.output.as_ref())?,
                expected: wire::json_text("expected", input.expected.as_ref())?,
                checks: wire::json_text(
                    "checks",
                    serde_json::to_value(&input.checks)
                        .ok()
                        .filter(|v| !v.is_null())
                        .as_ref(),
                )?,
                metrics: wire::json_text(
                    "metrics",
                    serde_json::to_value(&input.metrics)
                        .ok()
                        .filter(|v| !v.is_null())
                        .as_ref(),
                )?,
                content_hash: hash,
            })
        })();
        let mut new = match checked {
            Ok(new) => new,
            Err(e) => return Ok(Err(e)),
        };
        if let Some(label) = &input.version {
            if let Err(e) = wire::ids(&[("version", label)]) {
                return Ok(Err(e));
            }
            let key = (workflow.id, label.clone());
            // Ensured again only for an earlier start, which moves its first sighting back.
            let id = match self.versions.get(&key) {
                Some(&(id, seen_at)) if seen_at <= new.started_at => id,
                _ => {
                    let id = config_version::ensure_config_version(
                        tx,
                        workflow.id,
                        label,
                        new.started_at,
                    )
                    .await?;
                    self.versions.insert(key, (id, new.started_at));
                    id
                }
            };
            new.config_version_id = Some(id);
        }
        Ok(Ok(new))
    }

    pub async fn attempt(&mut self, tx: &mut Tx, item: Value) -> DbResult<Outcome> {
        let hash = content_hash(&item);
        let input: AttemptIn = match wire::parse(item) {
            Ok(input) => input,
            Err(e) => return Ok(Outcome::invalid(e)),
        };
        let workflow = match self.workflow(&input.workflow) {
            Ok(w) => w.clone(),
            Err(outcome) => return Ok(outcome),
        };
        let times = (|| {
            wire::ids(&[
                ("correlation_id", &input.correlation_id),
                ("task", &input.task),
            ])?;
            wire::limits(
                &[("error", input.error.as_deref().unwrap_or(""))],
                wire::MAX_TEXT,
            )?;
            if input.number.is_some_and(|n| !(1..=1_000).contains(&n)) {
                return Err(ItemError::new("number", "must be from 1 to 1000"));
            }
            wire::start_and_finish(&input.started_at, input.finished_at.as_ref(), self.now)
        })();
        let (started_at, finished_at) = match times {
            Ok(t) => t,
            Err(e) => return Ok(Outcome::invalid(e)),
        };
        let Some(owner) = self.stored_task(tx, workflow.id, &input.task).await? else {
            let error = ItemError::new(
                "task",
                format!(
                    "no task '{}' in '{}' yet: send the task first",
                    input.task, workflow.slug
                ),
            );
            return Ok(Outcome::Rejected {
                status: 422,
                code: "unknown_task",
                error,
            });
        };
        let sealed = (self.sealed("started_at", Some(started_at)))
            .or_else(|| self.sealed("task", owner.task_started_at));
        if let Some(refused) = sealed {
            return Ok(refused);
        }
        let taken = match self.numbers.get(&owner.id) {
            Some(taken) => taken.clone(),
            None => task::attempt_numbers(tx, owner.id).await?,
        };
        let number = match input.number {
            Some(n) => match taken
                .iter()
                .find(|(c, number)| *number == n && *c != input.correlation_id)
            {
                Some((other, _)) => {
                    let error = ItemError::new(
                        "number",
                        format!("attempt {n} of task '{}' is already '{other}'", input.task),
                    );
                    return Ok(Outcome::Rejected {
                        status: 409,
                        code: "conflict",
                        error,
                    });
                }
                None => n,
            },
            None => taken
                .iter()
                .find(|(c, _)| *c == input.correlation_id)
                .map(|(_, n)| *n)
                .unwrap_or_else(|| taken.iter().map(|(_, n)| n + 1).max().unwrap_or(1)),
        };
        let key = (workflow.id, input.correlation_id.clone());
        if self.new_attempts.contains_key(&key) {
            // The batch sends this attempt twice: the second is compared with the first.
            self.insert_new_attempts(tx).await?;
        }
        let attempt = task::NewAttempt {
            workflow_id: workflow.id,
            task_id: owner.id,
            number,
            correlation_id: input.correlation_id.clone(),
            status: input.status,
            error: input.error,
            started_at,
            finished_at,
            content_hash: hash,
        };
        let outcome = match self
            .stored_attempt(tx, workflow.id, &input.correlation_id)
            .await?
        {
            Some(stored) if stored.task_id != Some(owner.id) => {
                let error = ItemError::new(
                    "correlation_id",
                    "is already used by an attempt of another task",
                );
                return Ok(Outcome::Rejected {
                    status: 409,
                    code: "conflict",
                    error,
                });
            }
            Some(stored) if stored.content_hash == attempt.content_hash => {
                return Ok(Outcome::Unchanged);
            }
            Some(stored) => {
                task::update_attempt(tx, stored.id, &attempt).await?;
                self.attempts_known.insert(
                    key,
                    Some(Stored {
                        content_hash: attempt.content_hash,
                        ..stored
                    }),
                );
                Outcome::Updated
            }
            None => {
                self.new_attempts
                    .insert(key, (attempt, owner.task_started_at));
                Outcome::Created
            }
        };
        let mut numbers = taken;
        numbers.retain(|(c, _)| *c != input.correlation_id);
        numbers.push((input.correlation_id, number));
        self.numbers.insert(owner.id, numbers);
        self.touch(workflow.id, Some(owner.id), owner.task_started_at);
        Ok(outcome)
    }

    /// Inserts the new attempts checked so far, many per statement; each claims the calls that
    /// arrived before it.
    pub async fn insert_new_attempts(&mut self, tx: &mut Tx) -> DbResult<()> {
        let new_attempts = std::mem::take(&mut self.new_attempts);
        let rows: Vec<&task::NewAttempt> = new_attempts.values().map(|(row, _)| row).collect();
        let ids = task::insert_attempts(tx, &rows).await?;
        for (key, (attempt, task_started_at)) in new_attempts {
            let stored = Stored {
                id: ids[&key],
                content_hash: attempt.content_hash,
                task_id: Some(attempt.task_id),
                task_started_at,
            };
            self.attempts_known.insert(key, Some(stored));
        }
        Ok(())
    }

    /// Checks and prices a call; it is stored with its neighbours by [`Ingest::settle_call`].
    pub fn prepare_call(&self, item: Value) -> Result<Call, Outcome> {
        let hash = content_hash(&item);
        let input: CallIn = wire::parse(item).map_err(Outcome::invalid)?;
        let workflow = self.workflow(&input.workflow)?;
        let checked = input.validate().and_then(|()| {
            Ok((
                input.started_at.millis("started_at", self.now)?,
                input.reported_cost()?,
            ))
        });
        let (started_at, reported) = checked.map_err(Outcome::invalid)?;
        let price = Price::in_force(
            &self.catalog.prices,
            &input.provider,
            &input.model,
            started_at,
        );
        let usage = input.usage();
        let pricing = cost_call(
            reported,
            input.status == CallStatus::Rejected,
            &usage,
            price.map(|p| (p.id, Rates::from(p))),
        )
        .map_err(|_| {
            Outcome::invalid(ItemError::new(
                "model",
                "the price book's price for this model makes the call cost more than can be counted; correct the price",
            ))
        })?;
        Ok(Call {
            id: 0,
            external_id: input.id,
            workflow_id: workflow.id,
            correlation_id: input.correlation_id,
            task_id: None,
            attempt_id: None,
            kind: input.kind,
            step: input.step,
            provider: input.provider,
            model: input.model,
            input_tokens: usage.input,
            output_tokens: usage.output,
            cache_read_tokens: usage.cache_read,
            cache_write_tokens: usage.cache_write,
            reasoning_tokens: usage.reasoning,
            audio_input_tokens: usage.audio_input,
            image_input_tokens: usage.image_input,
            reported_cost_micros: reported.map(|m: Micros| m.0),
            cost_micros: pricing.priced.total,
            cache_read_cost_micros: pricing.priced.cache_read,
            cache_write_cost_micros: pricing.priced.cache_write,
            cost_source: pricing.source,
            price_id: pricing.price_id,
            started_at,
            latency_ms: input.latency_ms,
            status: input.status,
            error_type: input.error_type,
            trace_id: input.trace_id,
            span_id: input.span_id,
            parent_span_id: input.parent_span_id,
            content_hash: hash,
            created_at: self.now,
        })
    }

    /// Joins a prepared call to the attempt of its own workflow with its correlation id when
    /// that is stored, looking each up once per batch; a call whose attempt comes later is
    /// claimed by it then.
    /// Returns the start of the task it joined.
    pub async fn join_attempt(&mut self, tx: &mut Tx, call: &mut Call) -> DbResult<Option<i64>> {
        let attempt = self
            .stored_attempt(tx, call.workflow_id, &call.correlation_id)
            .await?;
        call.attempt_id = attempt.as_ref().map(|a| a.id);
        call.task_id = attempt.as_ref().and_then(|a| a.task_id);
        Ok(attempt.and_then(|a| a.task_started_at))
    }

    /// What became of a prepared call once its statement ran: `inserted` if that statement
    /// stored it, otherwise it was already stored, unchanged or (a conflict) with other content.
    pub async fn settle_call(
        &mut self,
        tx: &mut Tx,
        call: &Call,
        inserted: bool,
    ) -> DbResult<Outcome> {
        if !inserted {
            let stored = task::stored_call(tx, call.workflow_id, &call.external_id).await?;
            if stored.is_some_and(|s| s.content_hash == call.content_hash) {
                return Ok(Outcome::Unchanged);
            }
            let error = ItemError::new(
                "id",
                "a call with this id was stored with other content; a call's cost is never rewritten",
            );
            return Ok(Outcome::Rejected {
                status: 409,
                code: "conflict",
                error,
            });
        }
        // Counted on its task's day once it belongs to a stored attempt. A call changes no
        // verdict, so its task is not decided again.
        let task_id = self
            .attempts_known
            .get(&(call.workflow_id, call.correlation_id.clone()))
            .and_then(|attempt| attempt.as_ref()?.task_id);
        if let Some(task_id) = task_id {
            self.cost_tasks.insert((call.workflow_id, task_id));
        }
        self.slices
            .insert((call.workflow_id, day_of(call.started_at)));
        Ok(Outcome::Created)
    }

    pub async fn outcome(&mut self, tx: &mut Tx, item: Value) -> DbResult<Outcome> {
        let hash = content_hash(&item);
        let input: OutcomeIn = match wire::parse(item) {
            Ok(input) => input,
            Err(e) => return Ok(Outcome::invalid(e)),
        };
        let workflow = match self.workflow(&input.workflow) {
            Ok(w) => w.clone(),
            Err(outcome) => return Ok(outcome),
        };
        let checked = wire::ids(&[("id", &input.id), ("task", &input.task)])
            .and_then(|()| wire::limits(&[("source", &input.source)], wire::MAX_ID))
            .and_then(|()| wire::limits(&[("detail", &input.detail)], wire::MAX_TEXT))
            .and_then(|()| input.occurred_at.millis("occurred_at", self.now));
        let occurred_at = match checked {
            Ok(at) => at,
            Err(e) => return Ok(Outcome::invalid(e)),
        };
        match outcome::stored_outcome_hash(tx, workflow.id, &input.id).await? {
            Some(stored) if stored == hash => return Ok(Outcome::Unchanged),
            Some(_) => {
                let error = ItemError::new(
                    "id",
                    "an outcome with this id was stored with other content",
                );
                return Ok(Outcome::Rejected {
                    status: 409,
                    code: "conflict",
                    error,
                });
            }
            None => {}
        }
        let event = outcome::NewOutcome {
            external_id: &input.id,
            workflow_id: workflow.id,
            task_external_id: &input.task,
            kind: input.kind,
            occurred_at,
            source: &input.source,
            detail: &input.detail,
            content_hash: &hash,
        };
        outcome::insert_outcome(tx, &event, self.now).await?;
        if let Some(owner) = self.stored_task(tx, workflow.id, &input.task).await? {
            self.touch(workflow.id, Some(owner.id), owner.task_started_at);
        }
        Ok(Outcome::Created)
    }

    pub async fn evaluation(&mut self, tx: &mut Tx, item: Value) -> DbResult<Outcome> {
        let hash = content_hash(&item);
        let input: EvaluationIn = match wire::parse(item) {
            Ok(input) => input,
            Err(e) => return Ok(Outcome::invalid(e)),
        };
        let workflow = match self.workflow(&input.workflow) {
            Ok(w) => w.clone(),
            Err(outcome) => return Ok(outcome),
        };
        let checked = input
            .validate()
            .and_then(|()| input.evaluated_at.millis("evaluated_at", self.now));
        let evaluated_at = match checked {
            Ok(at) => at,
            Err(e) => return Ok(Outcome::invalid(e)),
        };
        match evaluation::stored_evaluation_hash(tx, workflow.id, &input.id).await? {
            Some(stored) if stored == hash => return Ok(Outcome::Unchanged),
            Some(_) => {
                let error = ItemError::new(
                    "id",
                    "an evaluation with this id was stored with other content",
                );
                return Ok(Outcome::Rejected {
                    status: 409,
                    code: "conflict",
                    error,
                });
            }
            None => {}
        }
        let result = evaluation::NewEvaluation {
            external_id: &input.id,
            workflow_id: workflow.id,
            task_external_id: &input.task,
            name: input.name.trim(),
            score: input.score,
            label: input.label.as_deref().map(str::trim),
            explanation: &input.explanation,
            evaluated_at,
            source: &input.source,
            content_hash: &hash,
        };
        evaluation::insert_evaluation(tx, &result, self.now).await?;
        if let Some(owner) = self.stored_task(tx, workflow.id, &input.task).await? {
            self.touch(workflow.id, Some(owner.id), owner.task_started_at);
        }
        Ok(Outcome::Created)
    }

    pub async fn grade(&mut self, tx: &mut Tx, item: Value) -> DbResult<Outcome> {
        let hash = content_hash(&item);
        let input: GradeIn = match wire::parse(item) {
            Ok(input) => input,
            Err(e) => return Ok(Outcome::invalid(e)),
        };
        let workflow = match self.workflow(&input.workflow) {
            Ok(w) => w.clone(),
            Err(outcome) => return Ok(outcome),
        };
        let checked = wire::ids(&[
            ("id", &input.id),
            ("task", &input.task),
            ("grader", &input.grader),
        ])
        .and_then(|()| wire::limits(&[("note", &input.note)], wire::MAX_TEXT))
        .and_then(|()| wire::review_seconds(input.review_seconds))
        .and_then(|()| input.graded_at.millis("graded_at", self.now));
        let graded_at = match checked {
            Ok(at) => at,
            Err(e) => return Ok(Outcome::invalid(e)),
        };
        let Some(owner) = self.stored_task(tx, workflow.id, &input.task).await? else {
            let error = ItemError::new(
                "task",
                format!(
                    "no task '{}' in '{}': a grade needs its task",
                    input.task, workflow.slug
                ),
            );
            return Ok(Outcome::Rejected {
                status: 422,
                code: "unknown_task",
                error,
            });
        };
        match grade::stored_grade_hash(tx, owner.id, &input.grader).await? {
            Some(stored) if stored == hash => return Ok(Outcome::Unchanged),
            Some(_) => {
                let error = ItemError::new(
                    "grader",
                    "this grader already graded the task with another verdict",
                );
                return Ok(Outcome::Rejected {
                    status: 409,
                    code: "conflict",
                    error,
                });
            }
            None => {}
        }
        let new = grade::NewGrade {
            external_id: Some(&input.id),
            task_id: owner.id,
            reviewer_id: None,
            grader: &input.grader,
            verdict: input.verdict,
            edit_severity: input.edit_severity,
            review_seconds: input.review_seconds,
            note: &input.note,
            graded_at,
            content_hash: &hash,
        };
        grade::insert_grade(tx, &new).await?;
        self.touch(workflow.id, Some(owner.id), owner.task_started_at);
        Ok(Outcome::Created)
    }
}

/// Records what a lookup of `ids` found: the stored row where there is one, and `None` (not
/// stored) for the rest, so the batch does not ask again.
fn remember(
    known: &mut HashMap<(i64, String), Option<Stored>>,
    workflow_id: i64,
    ids: &[&str],
    stored: Vec<(String, Stored)>,
) {
    known.extend(ids.iter().map(|id| ((workflow_id, id.to_string()), None)));
    known.extend(
        stored
            .into_iter()
            .map(|(id, row)| ((workflow_id, id), Some(row))),
    );
}
