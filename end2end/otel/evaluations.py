"""Sends three tasks and their evaluation results to Finishline with the OpenTelemetry Python SDK,
unchanged: its OTLP/HTTP protobuf exporters for traces and logs, as an application would.

    python evaluations.py http://127.0.0.1:PORT API_KEY

- py-eval-1: an agent span whose `gen_ai.evaluation.result` span event scores faithfulness 0.91;
- a second task named by its trace (no finishline.task.id), judged by a log record parented to
  its span: faithfulness 0.42;
- py-eval-3, of task type `resolution`: judged by a log record carrying finishline.task.id, its
  resolution label "resolved".

Prints one line per task: its task id as Finishline names it.
"""

import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

EVENT = "gen_ai.evaluation.result"


def main(base: str, key: str) -> None:
    headers = {"authorization": f"Bearer {key}"}
    resource = Resource.create(
        {"service.name": "answer-bot", "finishline.workflow": "support-triage"}
    )
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces", headers=headers))
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{base}/v1/logs", headers=headers))
    )
    tracer = tracer_provider.get_tracer("answer-bot")
    logger = logger_provider.get_logger("answer-evaluator")

    def task(task_id, task_type="answer"):
        attributes = {
            "gen_ai.operation.name": "invoke_agent",
            "finishline.task.type": task_type,
            "finishline.task.status": "completed",
        }
        if task_id:
            attributes["finishline.task.id"] = task_id
        return tracer.start_as_current_span("invoke_agent answer", attributes=attributes)

    def chat():
        with tracer.start_as_current_span(
            "chat claude-haiku-4-5",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "anthropic",
                "gen_ai.response.model": "claude-haiku-4-5",
                "gen_ai.usage.input_tokens": 1000,
                "gen_ai.usage.output_tokens": 100,
            },
        ):
            pass

    with task("py-eval-1") as span:
        chat()
        span.add_event(
            EVENT,
            {
                "gen_ai.evaluation.name": "faithfulness",
                "gen_ai.evaluation.score.value": 0.91,
                "gen_ai.evaluation.explanation": "Every claim is in the cited policy",
            },
        )
    print("py-eval-1")

    with task(None) as span:
        chat()
        context = trace.set_span_in_context(span)
        trace_id = format(span.get_span_context().trace_id, "032x")
    logger.emit(
        event_name=EVENT,
        context=context,
        attributes={"gen_ai.evaluation.name": "faithfulness", "gen_ai.evaluation.score.value": 0.42},
    )
    print(trace_id)

    with task("py-eval-3", "resolution") as span:
        chat()
        context = trace.set_span_in_context(span)
    logger.emit(
        event_name=EVENT,
        context=context,
        attributes={
            "finishline.task.id": "py-eval-3",
            "gen_ai.evaluation.name": "resolution",
            "gen_ai.evaluation.score.label": "resolved",
        },
    )
    print("py-eval-3")

    tracer_provider.shutdown()
    logger_provider.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
