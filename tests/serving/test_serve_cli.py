"""`polarity serve` and `polarity predict` end to end: a real server process and the CLI client.

The served model is a generic text classifier (tf_serving_models.text_classifier): the
CLI prints the class names and scores the model gives, whatever they are.
"""

import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import pytest
from serving_helpers import publish_version
from tf_serving_models import text_classifier

from polarity import cli

REPO = pathlib.Path(__file__).resolve().parents[2]


def start_server(workspace: pathlib.Path) -> tuple[subprocess.Popen, str]:
    """`polarity serve` on the workspace's push directory and a free port: (process, url)."""
    command = [
        sys.executable, "-m", "polarity.cli", "serve", "--workspace", str(workspace),
        "--rest_api_port", "0", "--enable_batching",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url, seen = None, []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and url is None:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        match = re.search(r"Serving at (http://127\.0\.0\.1:\d+)", line)
        url = match.group(1) if match else None
    if url is None:
        process.kill()
        pytest.fail("polarity serve did not start:\n" + "".join(seen[-30:]))
    return process, url


@pytest.fixture(scope="module")
def served_workspace(tmp_path_factory):
    """A workspace whose push directory holds a text classifier, served by `polarity serve` on a free port."""
    workspace = tmp_path_factory.mktemp("serve_workspace")
    model = text_classifier(tmp_path_factory.mktemp("text_classifier") / "model")
    publish_version(model, workspace / "serving" / "polarity", 7)
    process, url = start_server(workspace)
    yield workspace, url, process
    if process.poll() is None:
        process.kill()
        process.wait(30)


def test_serve_defaults_to_the_workspace_push_dir_and_predict_prints_the_top_class(served_workspace, capsys):
    workspace, url, _ = served_workspace
    code = cli.main(["predict", "A good, moving film.", "Awful. Just awful.", "--url", url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines() == [
        "positive  0.9000  A good, moving film.",
        "negative  0.9000  Awful. Just awful.",
    ]


def test_predict_json_output(served_workspace, capsys):
    _, url, _ = served_workspace
    assert cli.main(["predict", "Good fun.", "--url", url, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["text"] == "Good fun." and row["top_class"] == "positive"
    assert row["scores"] == {"negative": pytest.approx(0.1), "positive": pytest.approx(0.9)}


def test_serve_stops_cleanly_on_ctrl_c(served_workspace):
    _, _, process = served_workspace
    process.send_signal(signal.SIGINT)
    assert process.wait(30) == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_cleanly_when_started_with_sigint_ignored(served_workspace, signum):
    # SIGTERM is how Kubernetes and systemd stop a server; a shell that starts
    # it in the background hands it SIGINT ignored. Either signal stops it.
    workspace, _, _ = served_workspace
    original = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the child
    try:
        process, url = start_server(workspace)
    finally:
        signal.signal(signal.SIGINT, original)
    assert cli.main(["predict", "Good fun.", "--url", url]) == 0
    process.send_signal(signum)
    assert process.wait(30) == 0


def test_predict_reports_an_unreachable_server(capsys):
    assert cli.main(["predict", "hello", "--url", "http://127.0.0.1:9"]) == 1
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


def test_serve_rejects_conflicting_model_flags(tmp_path, capsys):
    config = tmp_path / "models.config"
    config.write_text('model_config_list { config { name: "m" base_path: "/m" } }\n')
    code = cli.main(
        ["serve", "--model_config_file", str(config), "--model_name", "x", "--workspace", str(tmp_path)]
    )
    assert code == 2
    assert "not both" in capsys.readouterr().err


def test_serve_refuses_labels_on_versions_not_loaded_unless_allowed(tmp_path):
    # server_core.cc: labels are assigned before the first load, so TF Serving refuses them
    # at startup without --allow_version_labels_for_unavailable_models.
    config = tmp_path / "models.config"
    config.write_text(
        f'model_config_list {{ config {{ name: "m" base_path: "{tmp_path / "m"}" '
        'version_labels { key: "stable" value: 1 } } }\n'
    )
    command = [sys.executable, "-m", "polarity.cli", "serve", "--model_config_file", str(config)]
    done = subprocess.run(
        [*command, "--workspace", str(tmp_path), "--rest_api_port", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert (
        "error: Failed to start server. Error: FAILED_PRECONDITION: Request to assign label to version 1 "
        "of model m, which is not currently available for inference"
    ) in done.stderr
