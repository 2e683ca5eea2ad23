-- The owner's workflow page sums the grading of the gate window (grades per day, the median
-- review time) and pairs the grades agreement is measured on. Those statements joined each
-- grade with its task to learn its workflow, or walked every task of the workflow for its
-- grades: 700 ms a statement at a million tasks. Each grade now carries its task's workflow (a
-- task never changes workflow), and a workflow's grades of a period are one index range.
ALTER TABLE grades ADD COLUMN workflow_id BIGINT NOT NULL DEFAULT 0;
UPDATE grades SET workflow_id = (SELECT t.workflow_id FROM tasks t WHERE t.id = grades.task_id);
CREATE INDEX grades_workflow_graded ON grades (workflow_id, graded_at);
