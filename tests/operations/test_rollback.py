"""`polarity rollback`: an earlier model served again as a new highest version, under a live server."""

import json
import shutil
import time
import urllib.request

import pytest
from workspace_helpers import run_cli

from components import features
from polarity import rollback
from serving import model_dir

GOOD, BAD = 100, 200
PREDICT = json.dumps(
    {"signature_name": features.PREDICT_TEXT_SIGNATURE, "instances": ["a fine, warm and funny film"]}
).encode("utf-8")


@pytest.fixture
def workspace(tmp_path, trained_workspace, pushed_model_dir):
    """A workspace with the shared run's history, serving a good version 100 and a later 200."""
    config, _ = trained_workspace
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    shutil.copy(config.metadata_path, workspace / config.metadata_path.name)
    base = workspace / "serving" / "polarity"
    for version in (GOOD, BAD):
        model_dir.publish(pushed_model_dir, base, version)
    return workspace, base


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def _predict(url: str) -> dict:
    request = urllib.request.Request(f"{url}/v1/models/polarity:predict", data=PREDICT, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _states(url: str) -> dict[int, str]:
    status = _get(f"{url}/v1/models/polarity")["model_version_status"]
    return {int(item["version"]): item["state"] for item in status}


def _wait_until(condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def live_server(workspace):
    """The embedded TF Serving-compatible server watching the workspace's serving directory."""
    from serving.core import CoreOptions, ModelConfig
    from serving.server import BackgroundServer, ServerOptions
    from serving.versions import LoadOptions, VersionPolicy

    _, base = workspace
    load = LoadOptions(file_system_poll_wait_seconds=0.2, max_num_load_retries=0)
    core = CoreOptions(models=(ModelConfig("polarity", base, VersionPolicy()),), load=load)
    server = BackgroundServer(ServerOptions(core=core, rest_api_port=0)).start()
    try:
        _wait_until(lambda: _states(server.url).get(BAD) == "AVAILABLE", "version 200 to load")
        yield server.url
    finally:
        server.stop()


def test_rollback_publishes_the_previous_model_as_a_new_highest_version(workspace, live_server, capsys):
    path, base = workspace
    assert run_cli("rollback", "--workspace", str(path)) == 0
    (entry,) = rollback.read_journal(base)
    assert entry["rollback_of"] == GOOD and entry["replaced"] == BAD
    new = entry["version"]
    assert f"Serving version {new} (rollback of {GOOD}" in capsys.readouterr().out
    assert model_dir.list_versions(base) == [GOOD, BAD, new], "no version is removed or renamed"
    for name in ("saved_model.pb", "variables/variables.index"):
        assert (base / str(new) / name).read_bytes() == (base / str(GOOD) / name).read_bytes()
    assert not [p for p in base.iterdir() if p.name.startswith(model_dir.STAGING_PREFIX)]
    _wait_until(
        lambda: _states(live_server).get(new) == "AVAILABLE" and _states(live_server).get(BAD) == "END",
        f"the server to move from {BAD} to {new}",
    )
    assert _predict(live_server)["predictions"]


def test_status_shows_the_rollback(workspace, capsys):
    path, base = workspace
    assert run_cli("rollback", "--workspace", str(path), "--to", str(GOOD)) == 0
    new = model_dir.latest_version(base)
    capsys.readouterr()
    assert run_cli("status", "--workspace", str(path)) == 0
    assert f"Serving: version {new} (rollback of {GOOD})" in capsys.readouterr().out
    assert run_cli("status", "--workspace", str(path), "--json") == 0
    serving = json.loads(capsys.readouterr().out)["serving"]
    assert serving == {"version": new, "rollback_of": GOOD, "versions": [GOOD, BAD, new]}


def test_rollbacks_step_back_and_refuse_when_nothing_is_earlier(workspace, capsys):
    path, base = workspace
    assert run_cli("rollback", "--workspace", str(path)) == 0
    before = model_dir.list_versions(base)
    assert run_cli("rollback", "--workspace", str(path)) == 1
    assert f"no pushed model before version {GOOD}" in capsys.readouterr().err
    assert run_cli("rollback", "--workspace", str(path), "--to", str(before[-1])) == 1
    assert "holds the model already served" in capsys.readouterr().err
    assert run_cli("rollback", "--workspace", str(path), "--to", "7") == 1
    assert "version 7 is not in" in capsys.readouterr().err
    assert model_dir.list_versions(base) == before
    assert run_cli("rollback", "--workspace", str(path), "--to", str(BAD)) == 0, "forward again"
    assert rollback.serving_state(base)["rollback_of"] == BAD


def test_rollback_with_nothing_pushed_says_so(tmp_path, capsys):
    assert run_cli("rollback", "--workspace", str(tmp_path)) == 1
    assert "nothing has been pushed" in capsys.readouterr().err


def test_rollback_on_an_object_store_journals_and_publishes_there(tmp_path, monkeypatch):
    """The same rollback on a serving directory that is not a local folder (TF's ram://)."""
    import tensorflow as tf
    from saved_model_helpers import SCALE, files_under, load_and_call, ram_location, save_small_model

    monkeypatch.chdir(tmp_path)
    good = save_small_model(tmp_path / "good" / "export")
    bad = save_small_model(tmp_path / "bad" / "export", scale=-SCALE)
    with ram_location() as root:
        base = f"{root}/polarity"
        model_dir.publish(good, base, GOOD)
        model_dir.publish(bad, base, BAD)
        entry = rollback.rollback(base, now=300)
        assert (entry["version"], entry["rollback_of"], entry["replaced"]) == (300, GOOD, BAD)
        assert rollback.journal_path(base) == f"{root}/polarity.rollbacks.jsonl"
        state = rollback.serving_state(base)
        assert state == {"version": 300, "rollback_of": GOOD, "versions": [GOOD, BAD, 300]}
        assert files_under(f"{base}/300") == files_under(good)
        assert load_and_call(f"{base}/300") == [SCALE, 2 * SCALE]
        with pytest.raises(rollback.RollbackError, match=f"no pushed model before version {GOOD}"):
            rollback.rollback(base, now=400)
        rollback.rollback(base, to=BAD, now=400)  # forward again: a second line in the journal
        assert [item["rollback_of"] for item in rollback.read_journal(base)] == [GOOD, BAD]
        assert rollback.serving_state(base)["rollback_of"] == BAD
        assert sorted(tf.io.gfile.listdir(root)) == ["polarity", "polarity.rollbacks.jsonl"]
    assert not (tmp_path / "ram:").exists(), "a ram:// path was written as a local folder"


def test_polarity_rollback_on_a_ram_serving_dir(tmp_path, monkeypatch, capsys):
    """`polarity rollback --set serving.serving_dir=ram://...` rolls back there, not in a local 'ram:'."""
    from saved_model_helpers import ram_location, save_small_model

    monkeypatch.chdir(tmp_path)
    good = save_small_model(tmp_path / "good" / "export")
    with ram_location() as root:
        base = f"{root}/polarity"
        model_dir.publish(good, base, GOOD)
        model_dir.publish(save_small_model(tmp_path / "bad" / "export", scale=-1.0), base, BAD)
        flags = ("--workspace", str(tmp_path / "workspace"), "--set", f"serving.serving_dir={base}")
        assert run_cli("rollback", *flags) == 0
        assert f"(rollback of {GOOD}; version {BAD} served before) from {base}" in capsys.readouterr().out
        assert rollback.serving_state(base)["rollback_of"] == GOOD
    assert not (tmp_path / "ram:").exists(), "a ram:// path was written as a local folder"
