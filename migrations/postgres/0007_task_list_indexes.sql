-- Task lists over a long history: every workflow's tasks of a period (counted from the index
-- alone), and the costliest or cheapest first without sorting the period. The expression is
-- spelled as the task search writes it.
CREATE INDEX tasks_started ON tasks (started_at);
CREATE INDEX tasks_total_cost ON tasks ((model_cost_micros + tool_cost_micros + retry_cost_micros + cache_cost_micros + labour_cost_micros));
