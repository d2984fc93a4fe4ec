"""The KFP recurring run: the v2beta1 REST request, sent to a local stand-in server."""

import http.server
import json
import threading

import pytest
from workspace_helpers import run_cli

from pipelines.kubeflow_schedule import kfp_cron, recurring_run_body
from polarity.config import ConfigError, load_config

ROOT = "gs://polarity-test/root"
SPEC = {
    "pipelineInfo": {"name": "polarity"},
    "root": {"inputDefinitions": {"parameters": {"data_root": {"parameterType": "STRING"}}}, "dag": {}},
}


@pytest.fixture
def pipeline_file(tmp_path):
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps({"pipelineSpec": SPEC, "runtimeConfig": {}}))
    return path


@pytest.fixture
def kfp_server():
    """A stand-in KFP API server that records requests and answers like CreateRecurringRun."""
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status, answer = (400, {"error": "bad cron"}) if body["display_name"] == "reject" else (200, {})
            answer.setdefault("recurring_run_id", "rr-123")
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    thread.join()


@pytest.mark.parametrize(
    "five_fields, six_fields",
    [("0 3 * * *", "0 0 3 * * *"), ("*/15 * * * MON-FRI", "0 */15 * * * MON-FRI"), ("@daily", "0 0 0 * * *")],
)
def test_cron_gains_kfps_leading_seconds_field(five_fields, six_fields):
    assert kfp_cron(five_fields) == six_fields


def test_the_body_schedules_the_spec_with_the_configured_cron_and_root():
    config = load_config(overrides=[f"kubeflow.pipeline_root={ROOT}", "kubeflow.schedule=30 2 * * 1"])
    body = recurring_run_body(config, SPEC, {"data_root": "gs://b/data"})
    assert body["pipeline_spec"] == SPEC
    assert body["runtime_config"] == {"parameters": {"data_root": "gs://b/data"}, "pipeline_root": ROOT}
    assert body["trigger"] == {"cron_schedule": {"cron": "0 30 2 * * 1"}}
    assert (body["mode"], body["no_catchup"], body["max_concurrency"]) == ("ENABLE", True, "1")


def test_a_parameter_the_pipeline_lacks_is_refused():
    config = load_config(overrides=[f"kubeflow.pipeline_root={ROOT}"])
    with pytest.raises(
        ConfigError, match="--param epochs: not a parameter of this pipeline; it takes data_root"
    ):
        recurring_run_body(config, SPEC, {"epochs": "3"})


def test_the_cli_posts_the_recurring_run(kfp_server, pipeline_file, capsys, monkeypatch):
    host, received = kfp_server
    monkeypatch.setenv("KFP_BEARER_TOKEN", "t0ken")
    code = run_cli(
        "schedule", "kubeflow", "--pipeline", str(pipeline_file), "--cron", "0 4 * * *",
        "--param", "data_root=gs://b/new", "--set", f"kubeflow.host={host}",
        "--set", f"kubeflow.pipeline_root={ROOT}", "--set", "kubeflow.experiment_id=exp-1",
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    [request] = received
    assert request["path"] == "/apis/v2beta1/recurringruns"
    assert request["headers"]["Authorization"] == "Bearer t0ken"
    assert request["body"]["trigger"]["cron_schedule"]["cron"] == "0 0 4 * * *"
    assert request["body"]["runtime_config"]["parameters"] == {"data_root": "gs://b/new"}
    assert request["body"]["experiment_id"] == "exp-1"
    assert "Recurring run rr-123 created" in capsys.readouterr().out


def test_a_refusal_is_reported_with_the_servers_answer(kfp_server, pipeline_file):
    from pipelines.kubeflow_schedule import create_recurring_run

    host, _ = kfp_server
    with pytest.raises(ConfigError, match=r"refused the recurring run \(HTTP 400\).*bad cron"):
        create_recurring_run(host, {"display_name": "reject"})


def test_dry_run_prints_the_body_and_sends_nothing(kfp_server, pipeline_file, capsys):
    host, received = kfp_server
    args = ("--set", f"kubeflow.host={host}", "--set", f"kubeflow.pipeline_root={ROOT}")
    assert run_cli("schedule", "kubeflow", "--pipeline", str(pipeline_file), "--dry-run", *args) == 0
    assert json.loads(capsys.readouterr().out)["trigger"]["cron_schedule"]["cron"] == "0 0 3 * * *"
    assert received == []


@pytest.mark.parametrize(
    "argv, message",
    [
        (("--cron", "0 3 * *"), "--cron: '0 3 * *' has 4 fields"),
        (("--cron", "0 25 * * *"), "--cron: hour field: '25' is not a number from 0 to 23"),
        (("--set", "kubeflow.schedule=every day"), "kubeflow.schedule"),
        (("--param", "oops"), "--param 'oops': expected NAME=VALUE"),
    ],
)
def test_bad_schedules_are_refused_before_any_request(kfp_server, pipeline_file, capsys, argv, message):
    host, received = kfp_server
    args = ("--set", f"kubeflow.host={host}", "--set", f"kubeflow.pipeline_root={ROOT}")
    assert run_cli("schedule", "kubeflow", "--pipeline", str(pipeline_file), *args, *argv) == 2
    assert message in capsys.readouterr().err
    assert received == []


def test_a_missing_pipeline_file_says_how_to_make_one(tmp_path, capsys):
    args = ("--pipeline", str(tmp_path / "nope.yaml"), "--set", f"kubeflow.pipeline_root={ROOT}")
    assert run_cli("schedule", "kubeflow", *args) == 2
    assert "write it with `polarity compile kubeflow`" in capsys.readouterr().err


@pytest.mark.parametrize(
    "expression", ["0 3 * * *", "*/15 1-5 * JAN-MAR MON,FRI", "@weekly", "  0   3 * * 1-5 "]
)
def test_valid_cron_expressions_are_accepted(expression):
    from polarity.config import check_cron

    assert check_cron(expression) == " ".join(expression.split())


@pytest.mark.parametrize(
    "expression, message",
    [
        ("0 3 * * * *", "has 6 fields; write five"),
        ("60 * * * *", "minute field: '60' is not a number from 0 to 59"),
        ("0 0 0 * *", "day of month field: '0' is not a number from 1 to 31"),
        ("0 0 * * 7", "day of week field: '7' is not a number from 0 to 6"),
        ("0 5-2 * * *", "hour field: range '5-2' runs backwards"),
        ("*/0 * * * *", "minute field: step '0'"),
        ("@often", "has 1 fields"),
    ],
)
def test_bad_cron_expressions_name_the_field(expression, message):
    from polarity.config import check_cron

    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("*", r"\*")):
        check_cron(expression)
