"""The workspace lock: one writer at a time, a clear refusal, no stale lock after a kill."""

import os
import signal
import subprocess
import sys
import threading

import pytest
from run_process import REPO
from workspace_helpers import run_cli, small_config, write_small_spans

from polarity import lock

HOLD = """
import sys, time
from polarity import lock
with lock.workspace_lock(sys.argv[1], "polarity run --from-test"):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock of tmp_path/workspace; SIGKILLed at the end."""
    workspace = tmp_path / "workspace"
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(workspace)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "held"
    yield workspace, process
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


def test_lock_held_elsewhere_is_refused_naming_the_holder(holder):
    workspace, process = holder
    with pytest.raises(lock.WorkspaceBusyError) as refused:
        with lock.workspace_lock(workspace):
            pytest.fail("the lock was taken twice")
    message = str(refused.value)
    assert f"pid {process.pid} (`polarity run --from-test`" in message
    assert "wait for it to finish" in message and "nothing was changed" in message


def test_run_on_a_locked_workspace_exits_1_and_touches_nothing(holder, capsys):
    workspace, process = holder
    config = small_config(workspace)
    write_small_spans(config, rows=300)
    before = sorted(path.name for path in workspace.iterdir())
    assert run_cli("run", "--workspace", str(workspace)) == 1
    captured = capsys.readouterr()
    assert f"pid {process.pid}" in captured.err
    assert "Running pipeline" not in captured.out
    assert sorted(path.name for path in workspace.iterdir()) == before
    assert not config.metadata_path.exists() and not config.serving_dir.exists()


def test_rollback_on_a_locked_workspace_is_refused(holder, capsys):
    workspace, process = holder
    assert run_cli("rollback", "--workspace", str(workspace)) == 1
    assert f"pid {process.pid}" in capsys.readouterr().err


def test_lock_file_of_a_killed_holder_does_not_block(holder):
    workspace, process = holder
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert lock.lock_path(workspace).is_file(), "the killed holder leaves its lock file behind"
    with lock.workspace_lock(workspace, "polarity run") as held:
        assert f'"pid": {os.getpid()}' in held.path.read_text(encoding="utf-8")


def test_lock_is_released_when_the_command_ends(tmp_path):
    with lock.workspace_lock(tmp_path):
        pass
    with lock.workspace_lock(tmp_path):
        pass


@pytest.mark.parametrize("recovers", [True, False])
def test_a_killed_holders_record_is_kept_until_it_is_recovered(holder, recovers):
    # A rollback does not recover (status then still shows the killed run as interrupted);
    # run, simulate and Airflow tasks recover the killed run and forget its record.
    workspace, process = holder
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with lock.workspace_lock(workspace, "polarity rollback") as held:
        assert [record["pid"] for record in held.interrupted] == [process.pid]
        assert lock.recorded_holder(workspace)["pid"] == os.getpid()
        if recovers:
            held.recovered()
    after = lock.recorded_holder(workspace)
    if recovers:
        assert after is None
    else:
        assert after["pid"] == process.pid and not after["alive"]


def test_killed_holders_that_nobody_recovered_are_all_remembered(holder):
    workspace, process = holder
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    second = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(workspace)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert second.stdout.readline().strip() == "held"
    os.kill(second.pid, signal.SIGKILL)
    second.wait()
    with lock.workspace_lock(workspace) as held:
        assert [record["pid"] for record in held.interrupted] == [process.pid, second.pid]
        assert held.interrupted[0]["started_ms"] <= held.interrupted[1]["started_ms"] <= held.acquired_ms


def test_a_writer_that_may_wait_takes_the_lock_when_the_holder_ends(holder):
    workspace, process = holder
    waiting = []
    threading.Timer(1.0, lambda: os.kill(process.pid, signal.SIGTERM)).start()
    with lock.workspace_lock(workspace, "airflow task", wait_seconds=60, on_wait=waiting.append) as held:
        assert held.record["pid"] == os.getpid()
    assert len(waiting) == 1 and f"pid {process.pid}" in waiting[0]


def test_a_writer_that_waits_gives_up_after_its_wait_naming_the_holder(holder):
    workspace, process = holder
    with pytest.raises(lock.WorkspaceBusyError, match=f"pid {process.pid}.*waited 1 s"):
        with lock.workspace_lock(workspace, wait_seconds=1):
            pytest.fail("the lock was taken twice")
