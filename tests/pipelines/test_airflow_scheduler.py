"""The DAG under Airflow's own scheduler, on a workspace where `polarity run` ran first.

As a user runs it: `airflow db migrate`, `airflow scheduler` (SequentialExecutor,
SQLite, a private AIRFLOW_HOME), `airflow dags trigger`; each task runs in its
own `airflow tasks run` process. The local run registers the components'
ML Metadata types first (the order that broke BlessingGate under Airflow), and
a new span arrives before the scheduled run, so that run trains, blesses and
pushes a model of its own, which `polarity status` and `polarity lineage` must
show.
"""

import importlib.util

import pytest
from airflow_helpers import Scheduler, airflow, cli_json, write_config
from workspace_helpers import run_cli, small_config, small_run_flags, write_small_spans

# Not importorskip: importing Airflow here would configure logging in the test process, and its
# console handler would then print every library log line into captured stdout.
if importlib.util.find_spec("airflow") is None:
    pytest.skip("the airflow extra is not installed", allow_module_level=True)

# Fourteen task processes, each starting Python, TensorFlow and TFX (about 30 s a task), after
# a local run: about 11 minutes on a quiet 2-core machine, more beside another test process.
pytestmark = [pytest.mark.timeout(2400), pytest.mark.start_first]

RUN_ID = "scheduled-test"
ROWS = 1200
# A small span's model may score a little under the last one; the run must still push.
OVERRIDES = ("training.epochs=2", "data.min_rows=100", "evaluation.max_accuracy_drop=0.5")


@pytest.fixture(scope="module")
def scheduled(tmp_path_factory):
    """A local run, a new span, then one scheduled DAG run; what the scheduler recorded."""
    tmp_path = tmp_path_factory.mktemp("airflow_scheduler")
    config = small_config(tmp_path / "workspace", *OVERRIDES)
    write_small_spans(config, rows=ROWS)
    flags = ["--workspace", str(config.workspace), *small_run_flags(*OVERRIDES)]
    assert run_cli("run", *flags) == 0, "the local run before the scheduled one failed"
    local = cli_json("status", "--workspace", str(config.workspace))
    write_small_spans(config, rows=ROWS, first_span=2, seed=1)

    # No schedule: the only run is the one triggered here.
    config_file = write_config(config, tmp_path / "polarity.yaml", schedule=None, retries=0)
    scheduler = Scheduler(tmp_path / "airflow_home", config_file)
    scheduler.start()
    try:
        scheduler.wait_for_dag(config.pipeline_name, timeout=300)
        airflow(scheduler.env, "dags", "trigger", config.pipeline_name, "--run-id", RUN_ID)
        state = scheduler.wait_for_run(config.pipeline_name, RUN_ID, timeout=1500)
        tasks = scheduler.task_states(config.pipeline_name, RUN_ID)
        log = scheduler.tail()
    finally:
        scheduler.stop()
    return config, local, {"state": state, "tasks": tasks, "log": log}


def test_every_task_of_the_scheduled_run_succeeds(scheduled):
    _, _, run = scheduled
    assert run["state"] == "success", f"{run['tasks']}\n{run['log']}"
    assert set(run["tasks"].values()) == {"success"}, run["tasks"]


def test_status_shows_the_scheduled_runs_metrics_blessing_and_push(scheduled):
    config, local, _ = scheduled
    status = cli_json("status", "--workspace", str(config.workspace))
    assert status["run_id"] != local["run_id"] and RUN_ID in status["run_id"]
    assert status["state"] == "complete" and status["span"] == 2
    assert {item["id"] for item in status["components"]} >= {"Trainer", "Evaluator", "BlessingGate", "Pusher"}
    assert "overall" in status["metrics"] and "overall" in status["golden_metrics"]
    assert status["blessed"] is True, status["not_blessed_because"]
    assert status["pushed"] is True and status["pushed_version"] != local["pushed_version"]
    assert status["serving"]["version"] == int(status["pushed_version"])


def test_lineage_traces_the_served_model_to_the_scheduled_run(scheduled):
    config, local, _ = scheduled
    lineage = cli_json("lineage", "--workspace", str(config.workspace))
    assert RUN_ID in lineage["pushed_in_run"] and RUN_ID in lineage["trained_in_run"]
    assert lineage["spans"] == [2] and lineage["blessed"] is True
    assert "overall" in lineage["metrics"]


def test_the_scheduled_run_is_judged_against_the_model_the_local_run_pushed(scheduled):
    config, local, _ = scheduled
    lineage = cli_json("lineage", "--workspace", str(config.workspace))
    assert lineage["baseline"] is not None
    assert lineage["baseline"]["pushed_version"] == int(local["pushed_version"])
