"""Logs, metrics and traces come from the layer for every function: structured JSON lines with the
request's id as correlation id, cold-start, reset and AI-fallback metrics, and no secrets."""

from __future__ import annotations

import json
import threading

import pytest
from conftest import DictConnection, body_of, invoke, load_event, use_environment

from squelch.observability import metrics


@pytest.fixture
def metrics_on(monkeypatch: pytest.MonkeyPatch):
    # With metrics off (every other test), Powertools never flushes, so what earlier invocations added (a
    # reset's Checkpoint dimension) is still there: the test starts from none, whatever ran before it.
    metrics.clear_metrics()
    use_environment(monkeypatch, POWERTOOLS_METRICS_DISABLED="false")
    yield
    metrics.clear_metrics()


def emitted(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]


def test_log_lines_carry_the_request_id_as_correlation_id(story: DictConnection, log_output) -> None:
    event = load_event("demo_reset.json")
    invoke("DemoResetFunction", event)
    [line] = [json.loads(text) for text in log_output.getvalue().splitlines() if '"demo reset"' in text]
    assert line["correlation_id"] == event["requestContext"]["requestId"]
    assert line["function_name"] == "DemoResetFunction" and line["service"] == "squelch"


def test_reset_emits_a_metric(story: DictConnection, metrics_on, capsys) -> None:
    invoke("DemoResetFunction", load_event("demo_reset.json"))
    names = {
        m["Name"]
        for blob in emitted(capsys.readouterr().out)
        for directive in blob["_aws"]["CloudWatchMetrics"]
        for m in directive["Metrics"]
    }
    assert "DemoResets" in names


def test_ai_fallback_emits_a_metric(story: DictConnection, metrics_on, capsys, monkeypatch) -> None:
    use_environment(monkeypatch, POWERTOOLS_METRICS_DISABLED="false", AI_PROVIDER="bedrock", BEDROCK_MODEL_ID=None)
    event = load_event("risk_analysis_create.json")
    assert body_of(invoke("RiskAnalysisCreateFunction", event))["provider"] == "canned"
    blobs = emitted(capsys.readouterr().out)
    assert any(blob.get("AIFallbacks") == [1.0] for blob in blobs)


def test_errors_log_no_connection_secrets(story: DictConnection, log_output, monkeypatch) -> None:
    use_environment(monkeypatch, DATABASE_URL="postgresql://admin:hunter2-secret@127.0.0.1:1/squelch")
    response = invoke("CustomerGetFunction", load_event("customer_get.json"))
    assert response["statusCode"] == 503
    assert "hunter2-secret" not in log_output.getvalue() and "hunter2-secret" not in response["body"]


def metric_dimensions(blobs: list[dict], name: str) -> list[dict[str, str]]:
    """For each emission of metric `name`: its dimensions and their values, as CloudWatch stores them."""
    found = []
    for blob in blobs:
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            if name in {m["Name"] for m in directive["Metrics"]}:
                found += [{key: blob[key] for key in keys} for keys in directive["Dimensions"]]
    return found


def alarm_dimensions(metric: str) -> dict[str, str]:
    """The Squelch alarm on `metric` in template.yaml: its namespace must be Squelch, its dimensions these."""
    from test_template import RESOURCES

    [alarm] = [
        r["Properties"]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("MetricName") == metric
    ]
    assert alarm["Namespace"] == "Squelch"
    return {d["Name"]: d["Value"] for d in alarm["Dimensions"]}


def test_a_reset_that_fails_emits_the_failure_metric_its_alarm_watches(
    story: DictConnection, metrics_on, capsys, monkeypatch
) -> None:
    # Given a database that cannot be reached
    use_environment(monkeypatch, POWERTOOLS_METRICS_DISABLED="false", DATABASE_URL="postgresql://u@127.0.0.1:1/x")
    # When a presenter resets the demo
    response = invoke("DemoResetFunction", load_event("demo_reset.json"))
    # Then the reset is a 503 and DemoResetFailures is counted, with the dimensions its alarm names
    assert response["statusCode"] == 503
    emissions = metric_dimensions(emitted(capsys.readouterr().out), "DemoResetFailures")
    assert emissions == [alarm_dimensions("DemoResetFailures")]


def test_a_refused_reset_is_not_a_failure(story: DictConnection, metrics_on, capsys, monkeypatch) -> None:
    # Given a deployment that keeps one sandbox (the default one exists)
    use_environment(monkeypatch, POWERTOOLS_METRICS_DISABLED="false", DEMO_MAX_SANDBOXES="1")
    event = load_event("demo_reset.json")
    event["headers"]["x-demo-sandbox"] = "acme"
    # When a presenter asks for another, then it is refused, and no failure is counted
    assert invoke("DemoResetFunction", event)["statusCode"] == 409
    assert metric_dimensions(emitted(capsys.readouterr().out), "DemoResetFailures") == []


def test_the_ai_fallback_alarm_watches_the_metric_as_it_is_emitted(
    story: DictConnection, metrics_on, capsys, monkeypatch
) -> None:
    use_environment(monkeypatch, POWERTOOLS_METRICS_DISABLED="false", AI_PROVIDER="bedrock", BEDROCK_MODEL_ID=None)
    invoke("RiskAnalysisCreateFunction", load_event("risk_analysis_create.json"))
    emissions = metric_dimensions(emitted(capsys.readouterr().out), "AIFallbacks")
    assert emissions == [alarm_dimensions("AIFallbacks")]


def counted(blobs: list[dict], name: str) -> list[tuple[str, list[float], dict[str, str]]]:
    """For each emission of metric `name`: its unit, its values, and the dimensions and metadata beside it."""
    found = []
    for blob in blobs:
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                if metric["Name"] == name:
                    beside = {k: v for k, v in blob.items() if k != "_aws" and isinstance(v, str)}
                    found.append((metric["Unit"], blob[name], beside))
    return found


def test_a_reset_counts_one_reset_by_checkpoint_and_names_its_sandbox(
    story: DictConnection, metrics_on, capsys
) -> None:
    # When a presenter resets a sandbox to a later checkpoint
    event = load_event("demo_reset.json")
    event["headers"]["x-demo-sandbox"] = "acme"
    event["body"] = json.dumps({"confirm": True, "checkpoint": "act1-planned"})
    assert invoke("DemoResetFunction", event)["statusCode"] == 200
    # Then one reset is counted, by its checkpoint, with the sandbox in the metadata
    [(unit, values, beside)] = counted(emitted(capsys.readouterr().out), "DemoResets")
    assert (unit, values) == ("Count", [1.0])
    assert beside["Checkpoint"] == "act1-planned" and beside["sandbox"] == "acme"


def test_a_failed_reset_counts_one_failure(story: DictConnection, metrics_on, capsys, monkeypatch) -> None:
    # Given a database that cannot be reached, When a presenter resets, Then one failure is counted
    use_environment(monkeypatch, POWERTOOLS_METRICS_DISABLED="false", DATABASE_URL="postgresql://u@127.0.0.1:1/x")
    assert invoke("DemoResetFunction", load_event("demo_reset.json"))["statusCode"] == 503
    assert [(unit, values) for unit, values, _ in counted(emitted(capsys.readouterr().out), "DemoResetFailures")] == [
        ("Count", [1.0])
    ]


def test_each_request_logs_under_its_own_function_and_correlation_id_while_others_run(
    story: DictConnection, log_output, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a profile request that fails after another function's request has run on another thread
    # in the meantime (the local server runs functions on a pool of threads)
    from squelch.domain import customers

    reached, go_on = threading.Event(), threading.Event()

    def failing_profile(ref: str) -> None:
        reached.set()
        assert go_on.wait(10)
        raise RuntimeError("the profile broke")

    monkeypatch.setattr(customers, "profile", failing_profile)
    failing = load_event("customer_get.json")
    failing["requestContext"] = {**failing["requestContext"], "requestId": "request-that-fails"}
    other = load_event("health_get.json")
    other["requestContext"] = {**other["requestContext"], "requestId": "request-meanwhile"}
    answers: list[dict] = []
    thread = threading.Thread(target=lambda: answers.append(invoke("CustomerGetFunction", failing)))
    thread.start()
    assert reached.wait(10)
    assert invoke("HealthGetFunction", other)["statusCode"] == 200
    go_on.set()
    thread.join()
    # When its traceback is logged, Then it is under its own function and its own request's id
    assert answers[0]["statusCode"] == 500
    [line] = [json.loads(text) for text in log_output.getvalue().splitlines() if '"unhandled error"' in text]
    assert (line["function_name"], line["correlation_id"]) == ("CustomerGetFunction", "request-that-fails")
    assert "the profile broke" in line["exception"]
