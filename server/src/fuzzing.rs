//! Entry points for the fuzz targets in `fuzz/`: each takes arbitrary bytes through one of the
//! decoders that face the outside (the batch API's JSON, OTLP protobuf and JSON, the import's
//! JSON lines and CSV) and on through every check an item meets before storage. Bad input must
//! come back as an error value; a panic, a hang or a runaway allocation is what the fuzzer
//! looks for. The unit tests below run each entry point on the seed inputs in
//! `fuzz/seeds/`, so `cargo test` keeps them working between fuzzing runs.

use crate::ingest::Batch;
use crate::ingest::wire::{
    AttemptIn, CallIn, EvaluationIn, GradeIn, OutcomeIn, TaskIn, json_text, parse,
};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

/// A fixed clock, so that a crash reproduces from its input alone.
const NOW: i64 = 1_795_000_000_000;

/// `POST /api/v1/ingest`'s body.
pub fn ingest_batch(bytes: &[u8]) -> usize {
    serde_json::from_slice::<Batch>(bytes).map_or(0, check)
}

/// `POST /v1/traces` and `POST /v1/logs` as `application/x-protobuf`: the same bytes through
/// both decoders.
pub fn otlp_protobuf(bytes: &[u8]) -> usize {
    let spans = ExportTraceServiceRequest::decode(bytes).map_or(0, |request| {
        check(crate::otlp::spans::to_batch(&request).batch)
    });
    let logs = ExportLogsServiceRequest::decode(bytes).map_or(0, |request| {
        check(crate::otlp::logs::to_batch(&request).batch)
    });
    spans + logs
}

/// `POST /v1/traces` and `POST /v1/logs` as `application/json`.
pub fn otlp_json(bytes: &[u8]) -> usize {
    let spans = serde_json::from_slice::<ExportTraceServiceRequest>(bytes).map_or(0, |request| {
        check(crate::otlp::spans::to_batch(&request).batch)
    });
    let logs = serde_json::from_slice::<ExportLogsServiceRequest>(bytes).map_or(0, |request| {
        check(crate::otlp::logs::to_batch(&request).batch)
    });
    spans + logs
}

/// `finishline import` of a JSON-lines file.
pub fn import_json_lines(bytes: &[u8]) -> usize {
    check(rows(crate::import::json_lines(bytes)))
}

/// `finishline import` of a CSV file.
pub fn import_csv(bytes: &[u8]) -> usize {
    crate::import::csv_rows(bytes).map_or(0, |read| check(rows(read)))
}

fn rows(rows: Vec<crate::import::Row>) -> Batch {
    let mut batch = Batch::default();
    for (kind, item) in rows.into_iter().flatten() {
        crate::import::list(&mut batch, kind).push(item);
    }
    batch
}

/// Every check an item meets before it reaches the database; how many items were well formed.
fn check(batch: Batch) -> usize {
    let mut formed = 0;
    for item in batch.tasks {
        if let Ok(task) = parse::<TaskIn>(item) {
            formed += 1;
            let _ = task.started_at.millis("started_at", NOW);
            let _ = task.finished_at.map(|at| at.millis("finished_at", NOW));
            let _ = json_text("output", task.output.as_ref());
            let _ = json_text("expected", task.expected.as_ref());
        }
    }
    for item in batch.attempts {
        if let Ok(attempt) = parse::<AttemptIn>(item) {
            formed += 1;
            let _ = attempt.started_at.millis("started_at", NOW);
            let _ = attempt.finished_at.map(|at| at.millis("finished_at", NOW));
        }
    }
    for item in batch.calls {
        if let Ok(call) = parse::<CallIn>(item) {
            formed += 1;
            let _ = call.validate();
            let _ = call.reported_cost();
            let _ = call.usage();
            let _ = call.started_at.millis("started_at", NOW);
        }
    }
    for item in batch.outcomes {
        if let Ok(outcome) = parse::<OutcomeIn>(item) {
            formed += 1;
            let _ = outcome.occurred_at.millis("occurred_at", NOW);
        }
    }
    for item in batch.grades {
        if let Ok(grade) = parse::<GradeIn>(item) {
            formed += 1;
            let _ = grade.graded_at.millis("graded_at", NOW);
        }
    }
    for item in batch.evaluations {
        if let Ok(evaluation) = parse::<EvaluationIn>(item) {
            formed += 1;
            let _ = evaluation.validate();
            let _ = evaluation.evaluated_at.millis("evaluated_at", NOW);
        }
    }
    formed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn seeds(target: &str) -> Vec<Vec<u8>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/seeds")
            .join(target);
        let mut found: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
            .collect();
        found.sort();
        assert!(!found.is_empty(), "no seeds in {}", dir.display());
        found
    }

    #[test]
    fn every_entry_point_takes_its_seeds_and_garbage() {
        let garbage: [&[u8]; 4] = [b"", b"\xff\xfe\x00", b"{\"calls\": [{}]}", &[0x0a; 64]];
        for (target, run) in [
            ("ingest_batch", ingest_batch as fn(&[u8]) -> usize),
            ("otlp_protobuf", otlp_protobuf),
            ("otlp_json", otlp_json),
            ("import_json_lines", import_json_lines),
            ("import_csv", import_csv),
        ] {
            for seed in seeds(target).into_iter().filter(|s| !s.is_empty()) {
                assert!(
                    run(&seed) > 0,
                    "{target}: a seed whose items all fail to parse"
                );
            }
            for bytes in garbage {
                run(bytes);
            }
        }
    }
}
