//! From log records to evaluation results.
//!
//! The logs receiver keeps one kind of record: the `gen_ai.evaluation.result` event (its
//! `event_name`, or an `event.name` attribute from SDKs that predate the field). Its workflow
//! and task come from `finishline.*` attributes on the record or its resource, the task
//! failing that from the record's trace id, as for spans. Any other record is refused by
//! place and reason, so a sender learns that it is not kept.

use super::attrs::Attrs;
use super::evaluations::{self, Record};
use super::spans::{Mapped, attr};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::LogRecord;

/// Maps an export to one batch of evaluation results; the records that cannot be mapped are
/// listed with the reason.
pub fn to_batch(request: &ExportLogsServiceRequest) -> Mapped {
    let mut mapped = Mapped::default();
    let mut index = 0;
    for resource_logs in &request.resource_logs {
        let resource = resource_logs
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        for record in resource_logs.scope_logs.iter().flat_map(|s| &s.log_records) {
            let attrs = Attrs {
                span: &record.attributes,
                resource,
            };
            let label = label(index, record);
            index += 1;
            match map_record(record, &attrs) {
                Ok(item) => {
                    mapped.batch.evaluations.push(item);
                    mapped.origins.evaluations.push(label);
                }
                Err(reason) => mapped.refused.push((label, reason)),
            }
        }
    }
    mapped
}

/// A record as errors name it: its place in the export, and its span when it has one.
fn label(index: usize, record: &LogRecord) -> String {
    match record.span_id.is_empty() {
        true => format!("#{index}"),
        false => format!(
            "#{index} ({}/{})",
            hex::encode(&record.trace_id),
            hex::encode(&record.span_id)
        ),
    }
}

fn map_record(record: &LogRecord, attrs: &Attrs) -> Result<serde_json::Value, String> {
    let event = match record.event_name.as_str() {
        "" => attrs.text("event.name").unwrap_or_default(),
        name => name.to_owned(),
    };
    if event != evaluations::EVENT {
        return Err(format!(
            "not a {} event: the logs receiver keeps evaluation results only",
            evaluations::EVENT
        ));
    }
    let workflow = attrs.text(attr::WORKFLOW).ok_or_else(|| {
        format!(
            "no {} attribute on the record or its resource says which workflow it belongs to",
            attr::WORKFLOW
        )
    })?;
    let trace = (record.trace_id.len() == 16 && record.trace_id.iter().any(|b| *b != 0))
        .then(|| hex::encode(&record.trace_id));
    let task = attrs.text(attr::TASK_ID).or(trace.clone()).ok_or_else(|| {
        format!(
            "no {} attribute and no trace id: say which task this result judges",
            attr::TASK_ID
        )
    })?;
    let nanos = match record.time_unix_nano {
        0 => record.observed_time_unix_nano,
        nanos => nanos,
    };
    if nanos == 0 {
        return Err("timeUnixNano and observedTimeUnixNano are both missing".into());
    }
    let name = attrs.text(evaluations::NAME).unwrap_or_default();
    // The same record sent again has the same id, and is found unchanged.
    let id = format!(
        "{}-{}-{nanos}-{name}",
        trace.as_deref().unwrap_or(&task),
        hex::encode(&record.span_id)
    );
    let source = attrs.text("service.name").unwrap_or_default();
    evaluations::item(
        attrs,
        &Record {
            id,
            workflow: &workflow,
            task: &task,
            evaluated_at: (nanos / 1_000_000) as i64,
            source: &source,
        },
    )
}
