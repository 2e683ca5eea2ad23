//! Which task each call's dollars belong to, and in which cost component.
//!
//! A cache write is paid once but serves later reads, often by other tasks. Within a pool (the
//! first-attempt model calls, by provider and model, of the tasks one workflow started on one
//! day) the pool's cache-write cost is spread over its calls in proportion to the cache-read
//! tokens each used; a pool without reads leaves each write with the call that made it. Calls
//! in retries carry their whole cost, cache included, as retry cost. Either way the pool's
//! total never changes.
//!
//! The day is the task's start day, not the call's: a task's cost is counted on the day it
//! started, and that day's figures are recomputed from that day's tasks and all their calls.
//! A call after midnight therefore shares the writes of its own task's day, and a task's cost
//! changes only when its own day's tasks or calls change.

use super::cpst::CostBreakdown;
use super::money::{Micros, MoneyOverflow};
use super::platform::allocate;
use super::status::CallKind;
use std::collections::{BTreeMap, HashMap};

/// One call, reduced to what cost attribution needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallCost {
    pub task_id: i64,
    pub attempt_number: i64,
    pub kind: CallKind,
    /// Calls sharing a pool share cache writes: (provider, model, the day the call's task
    /// started).
    pub pool: (String, String, i64),
    pub cost: Micros,
    pub cache_read_cost: Micros,
    pub cache_write_cost: Micros,
    pub cache_read_tokens: i64,
}

impl CallCost {
    fn is_amortised(&self) -> bool {
        self.attempt_number <= 1 && matches!(self.kind, CallKind::Model | CallKind::Other)
    }
}

/// The cost breakdown of every task that has calls, or [`MoneyOverflow`] when a pool's or a
/// task's sum cannot be counted.
pub fn task_costs(calls: &[CallCost]) -> Result<HashMap<i64, CostBreakdown>, MoneyOverflow> {
    let mut out: HashMap<i64, CostBreakdown> = HashMap::new();
    for (call, parts) in calls.iter().zip(call_costs(calls)?) {
        let entry = out.entry(call.task_id).or_default();
        *entry = entry.checked_add(&parts)?;
    }
    Ok(out)
}

/// Each call's cost by component, in the order of `calls`: what a task's breakdown adds up,
/// call by call (so that an export by provider and model says what the figures say).
pub fn call_costs(calls: &[CallCost]) -> Result<Vec<CostBreakdown>, MoneyOverflow> {
    let mut pools: BTreeMap<&(String, String, i64), Vec<usize>> = BTreeMap::new();
    for (i, call) in calls.iter().enumerate() {
        if call.is_amortised() {
            pools.entry(&call.pool).or_default().push(i);
        }
    }
    let mut write_share = vec![Micros::ZERO; calls.len()];
    for members in pools.values() {
        let writes = Micros::try_sum(members.iter().map(|&i| calls[i].cache_write_cost))?;
        let reads: Vec<u64> = members
            .iter()
            .map(|&i| calls[i].cache_read_tokens.max(0) as u64)
            .collect();
        if reads.iter().all(|r| *r == 0) {
            for &i in members {
                write_share[i] = calls[i].cache_write_cost;
            }
        } else {
            for (&i, share) in members.iter().zip(allocate(writes, &reads)) {
                write_share[i] = share;
            }
        }
    }
    let mut out = Vec::with_capacity(calls.len());
    for (call, write_share) in calls.iter().zip(write_share) {
        let mut parts = CostBreakdown::default();
        if call.attempt_number > 1 {
            parts.retry = call.cost;
        } else if call.is_amortised() {
            parts.model = call
                .cost
                .checked_sub(call.cache_read_cost)?
                .checked_sub(call.cache_write_cost)?;
            parts.cache = call.cache_read_cost.checked_add(write_share)?;
        } else {
            parts.tool = call.cost;
        }
        out.push(parts);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(
        task_id: i64,
        attempt: i64,
        kind: CallKind,
        cost: i64,
        read: i64,
        write: i64,
        read_tokens: i64,
    ) -> CallCost {
        CallCost {
            task_id,
            attempt_number: attempt,
            kind,
            pool: ("anthropic".into(), "claude-sonnet-4-5".into(), 20_000),
            cost: Micros(cost),
            cache_read_cost: Micros(read),
            cache_write_cost: Micros(write),
            cache_read_tokens: read_tokens,
        }
    }

    #[test]
    fn a_cache_write_is_spread_over_the_reads_it_enabled() {
        // Task 1 writes the prefix for 3,750; tasks 2 and 3 read it, 8,000 tokens each.
        let calls = [
            call(1, 1, CallKind::Model, 10_000, 0, 3_750, 0),
            call(2, 1, CallKind::Model, 9_000, 2_400, 0, 8_000),
            call(3, 1, CallKind::Model, 9_000, 2_400, 0, 8_000),
        ];
        let costs = task_costs(&calls).unwrap();
        assert_eq!(costs[&1].cache, Micros(0));
        assert_eq!(costs[&1].model, Micros(6_250));
        assert_eq!(costs[&2].cache, Micros(2_400 + 1_875));
        assert_eq!(costs[&3].cache, Micros(2_400 + 1_875));
        let total = Micros::try_sum(costs.values().map(|c| c.total().unwrap())).unwrap();
        assert_eq!(
            total,
            Micros(28_000),
            "amortisation moves money between tasks, never creates it"
        );
    }

    #[test]
    fn calls_whose_sum_cannot_be_counted_are_refused_not_wrapped() {
        let calls = [
            call(1, 1, CallKind::Tool, i64::MAX, 0, 0, 0),
            call(1, 1, CallKind::Tool, 1, 0, 0, 0),
        ];
        assert_eq!(task_costs(&calls), Err(MoneyOverflow));
        let writes = [
            call(1, 1, CallKind::Model, i64::MAX, 0, i64::MAX, 0),
            call(2, 1, CallKind::Model, 1, 0, 1, 5),
        ];
        assert_eq!(task_costs(&writes), Err(MoneyOverflow), "a pool's writes");
    }

    #[test]
    fn without_reads_a_write_stays_with_its_writer() {
        let costs = task_costs(&[call(1, 1, CallKind::Model, 5_000, 0, 1_000, 0)]).unwrap();
        assert_eq!(
            (costs[&1].model, costs[&1].cache),
            (Micros(4_000), Micros(1_000))
        );
    }

    #[test]
    fn retries_carry_their_whole_cost_and_tools_are_tool_cost() {
        let calls = [
            call(1, 2, CallKind::Model, 7_000, 100, 500, 4_000),
            call(1, 1, CallKind::Retrieval, 400, 0, 0, 0),
            call(1, 1, CallKind::Tool, 1_000, 0, 0, 0),
        ];
        let costs = task_costs(&calls).unwrap();
        assert_eq!(
            costs[&1],
            CostBreakdown {
                retry: Micros(7_000),
                tool: Micros(1_400),
                ..Default::default()
            }
        );
    }

    #[test]
    fn pools_are_separate_per_model_and_task_start_day() {
        let mut other_day = call(2, 1, CallKind::Model, 9_000, 2_400, 0, 8_000);
        other_day.pool.2 += 1;
        let costs =
            task_costs(&[call(1, 1, CallKind::Model, 10_000, 0, 3_750, 0), other_day]).unwrap();
        assert_eq!(costs[&1].cache, Micros(3_750));
        assert_eq!(costs[&2].cache, Micros(2_400));
    }
}
