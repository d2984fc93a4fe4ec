"""Runs killed in Transform and in Trainer, a second run refused by the lock, then a clean run.

One workspace goes through it all, in order (module fixture): run 1 is SIGKILLed
while Transform runs, and a second `polarity run` started meanwhile is refused;
run 2 is SIGKILLed while Trainer runs; run 3 must complete, redo what was
killed, leave ML Metadata consistent and push one whole model.
"""

import contextlib
import io
import json
import time

import pytest
from run_process import PolarityProcess
from workspace_helpers import SMALL_RUN_OVERRIDES, run_cli, small_config, write_small_spans

from polarity import metadata
from serving import model_dir

OVERRIDES = ("training.epochs=2",)
ROWS = 1500


def _flags(config) -> list[str]:
    sets = [flag for item in (*SMALL_RUN_OVERRIDES, *OVERRIDES) for flag in ("--set", item)]
    return ["--workspace", str(config.workspace), *sets]


def _serving_entries(config) -> list[str]:
    return sorted(path.name for path in config.serving_dir.iterdir()) if config.serving_dir.exists() else []


def _states_by_run(config) -> list[dict[str, str]]:
    store = metadata.open_store(config.metadata_path)
    return [
        {node.node_id: node.state for node in metadata.run_executions(store, run)}
        for run in metadata.pipeline_runs(store, config.pipeline_name)
    ]


def _status(config) -> dict:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert run_cli("status", "--json", "--workspace", str(config.workspace)) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def crashes(tmp_path_factory):
    """Drives the four runs; returns the config and what each left behind."""
    config = small_config(tmp_path_factory.mktemp("crash") / "workspace", *OVERRIDES)
    write_small_spans(config, rows=ROWS)
    seen = {}

    in_transform = PolarityProcess("run", *_flags(config))
    in_transform.wait_for("Transform", "running...")
    in_transform.wait_for_running(config.metadata_path, "Transform")
    seen["refused"] = PolarityProcess("run", *_flags(config)).finish(timeout=120)
    seen["holder_pid"] = in_transform.process.pid
    seen["serving_while_refused"] = _serving_entries(config)
    seen["status_while_running"] = _status(config)
    in_transform.kill()
    seen["after_transform_kill"] = (_states_by_run(config), _serving_entries(config))
    seen["status_after_kill"] = _status(config)
    # A rollback in between takes and releases the lock (and finds nothing to roll back).
    seen["rollback_after_kill"] = run_cli("rollback", "--workspace", str(config.workspace))
    seen["status_after_rollback"] = _status(config)

    in_trainer = PolarityProcess("run", *_flags(config))
    in_trainer.wait_for_running(config.metadata_path, "Trainer")
    time.sleep(2)  # into the training loop, past the launcher's bookkeeping
    in_trainer.kill()
    seen["after_trainer_kill"] = (_states_by_run(config), _serving_entries(config))

    seen["final"] = PolarityProcess("run", *_flags(config)).finish(timeout=300)
    return config, seen


def test_second_run_on_a_busy_workspace_is_refused_naming_the_holder(crashes):
    _, seen = crashes
    code, output = seen["refused"]
    assert code == 1
    assert f"pid {seen['holder_pid']}" in output and "polarity run" in output
    assert "wait for it to finish" in output and "nothing was changed" in output
    assert "Running pipeline" not in output
    assert seen["serving_while_refused"] == []


def test_kill_in_transform_leaves_it_running_and_serving_untouched(crashes):
    _, seen = crashes
    (states,), serving = seen["after_transform_kill"]
    assert states["Transform"] == "running"
    assert "Trainer" not in states
    assert serving == []


def test_status_tells_a_live_run_from_a_killed_one(crashes):
    _, seen = crashes
    assert seen["status_while_running"]["state"] == "running"
    killed = seen["status_after_kill"]
    assert killed["state"] == "interrupted" and killed["failed_component"] == "Transform"
    assert f"pid {seen['holder_pid']}" in killed["error"] and "Run `polarity run` again" in killed["error"]


def test_a_rollback_after_the_kill_leaves_the_run_interrupted(crashes):
    _, seen = crashes
    assert seen["rollback_after_kill"] == 1  # nothing pushed yet
    after = seen["status_after_rollback"]
    assert after["state"] == "interrupted" and f"pid {seen['holder_pid']}" in after["error"]


def test_kill_in_trainer_redid_transform_and_left_serving_untouched(crashes):
    _, seen = crashes
    (first, second), serving = seen["after_trainer_kill"]
    assert first["Transform"] == "canceled", "the next run closes what the killed run left open"
    assert second["CsvExampleGen"] == "cached"
    assert second["Transform"] == "complete", "a killed Transform is redone, never taken from cache"
    assert second["Trainer"] == "running"
    assert "Pusher" not in second
    assert serving == []


def test_run_after_the_kills_completes_and_pushes_one_whole_model(crashes):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401 (registers the tokenizer's ops, which the model uses)

    config, seen = crashes
    code, output = seen["final"]
    assert code == 0, output
    assert "was interrupted in Trainer: marked canceled" in output
    runs = _states_by_run(config)
    assert len(runs) == 3
    assert all(state in ("complete", "cached", "canceled") for run in runs for state in run.values())
    assert set(runs[-1].values()) <= {"complete", "cached"}
    assert runs[-1]["Transform"] == "cached" and runs[-1]["Trainer"] == "complete"
    versions = model_dir.list_versions(config.serving_dir)
    assert len(versions) == 1
    assert _serving_entries(config) == [str(versions[0])], "no staging or partial directory is left"
    loaded = tf.saved_model.load(str(config.serving_dir / str(versions[0])))
    assert "serving_default" in loaded.signatures


def test_killed_executions_left_no_partial_outputs(crashes):
    config, _ = crashes
    store = metadata.open_store(config.metadata_path)
    canceled = [e.id for e in store.get_executions() if metadata.STATES[e.last_known_state] == "canceled"]
    assert len(canceled) == 2
    leftovers = [
        path for path in config.pipeline_root.glob("*/*/*") if path.name in {str(i) for i in canceled}
    ]
    assert leftovers == []
