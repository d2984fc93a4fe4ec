"""`polarity serve` and `polarity predict` end to end: a real server process and the CLI client."""

import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import pytest
from serving_helpers import publish_version

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
def served_workspace(tmp_path_factory, model_version_dir):
    """A workspace whose push directory holds the real model, served by `polarity serve` on a free port."""
    workspace = tmp_path_factory.mktemp("serve_workspace")
    publish_version(model_version_dir, workspace / "serving" / "polarity", 7)
    process, url = start_server(workspace)
    yield workspace, url, process
    if process.poll() is None:
        process.kill()
        process.wait(30)


def test_serve_defaults_to_the_workspace_push_dir_and_predict_prints_scores(served_workspace, capsys):
    workspace, url, _ = served_workspace
    code = cli.main(["predict", "A moving, beautiful film.", "Awful. Just awful.", "--url", url])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert re.match(r"0\.\d{4}|1\.0000", lines[0]) and "label=1" in lines[0]
    assert "label=0" in lines[1]


def test_predict_json_output(served_workspace, capsys):
    _, url, _ = served_workspace
    assert cli.main(["predict", "Great fun.", "--url", url, "--json"]) == 0
    out = capsys.readouterr().out
    assert '"probability"' in out and '"label"' in out and '"text": "Great fun."' in out


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
    assert cli.main(["predict", "Great fun.", "--url", url]) == 0
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
