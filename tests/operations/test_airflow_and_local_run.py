"""An Airflow run in progress and a `polarity run` on the same workspace at once.

The Airflow run (`dag.test()` in a child process, tasks in that process) holds
the workspace lock while each task runs. A `polarity run` started while its
Transform runs must be refused, naming the task, and must cancel nothing: the
Airflow run then completes with every execution and output intact, and the next
`polarity run` finds nothing to recover.
"""

import importlib.util
import pathlib

import pytest
from airflow_helpers import RUN_DAG_TEST, airflow_env, result_of, start_python, write_config
from run_process import PolarityProcess, wait_until_running
from workspace_helpers import small_config, small_run_flags, write_small_spans

from polarity import metadata
from serving import model_dir

# Not importorskip: importing Airflow here would configure logging in the test process, and its
# console handler would then print every library log line into captured stdout.
if importlib.util.find_spec("airflow") is None:
    pytest.skip("the airflow extra is not installed", allow_module_level=True)

OVERRIDES = ("training.epochs=2", "data.min_rows=100")


def _executions(config) -> dict[int, str]:
    store = metadata.open_store(config.metadata_path)
    return {execution.id: metadata.STATES[execution.last_known_state] for execution in store.get_executions()}


def _missing_outputs(config) -> list[str]:
    """URIs of artifacts that finished executions wrote and that are gone from disk."""
    store = metadata.open_store(config.metadata_path)
    return [artifact.uri for artifact in store.get_artifacts() if not pathlib.Path(artifact.uri).exists()]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """Runs the DAG, and `polarity run` while its Transform runs; what each left behind."""
    tmp_path = tmp_path_factory.mktemp("airflow_and_local")
    config = small_config(tmp_path / "workspace", *OVERRIDES)
    write_small_spans(config, rows=1500)
    env = airflow_env(tmp_path / "airflow_home", write_config(config, tmp_path / "polarity.yaml", retries=0))
    dag_test = start_python(RUN_DAG_TEST, tmp_path, env)
    seen = {"airflow_pid": dag_test.pid}
    flags = ["--workspace", str(config.workspace), *small_run_flags(*OVERRIDES)]
    try:
        wait_until_running(config.metadata_path, "Transform", dag_test, timeout=600)
        seen["executions_before"] = _executions(config)
        seen["local"] = PolarityProcess("run", *flags).finish(timeout=300)
        seen["airflow"] = result_of(dag_test, timeout=900)
    finally:
        if dag_test.poll() is None:
            dag_test.kill()
            dag_test.wait()
    seen["executions_after_airflow"] = _executions(config)
    seen["missing_after_airflow"] = _missing_outputs(config)
    seen["versions_after_airflow"] = model_dir.list_versions(config.serving_dir)
    seen["local_again"] = PolarityProcess("run", *flags).finish(timeout=600)
    seen["executions_at_end"] = _executions(config)
    return config, seen


def test_a_local_run_during_an_airflow_task_is_refused_naming_the_task(both):
    _, seen = both
    code, output = seen["local"]
    assert code == 1, output
    assert f"pid {seen['airflow_pid']} (`airflow task polarity.Transform" in output, output
    assert "wait for it to finish" in output and "nothing was changed" in output
    assert "Running pipeline" not in output and "marked canceled" not in output


def test_the_airflow_run_completes_with_every_execution_and_output(both):
    config, seen = both
    airflow = seen["airflow"]
    assert airflow["state"] == "success", airflow["log"]
    assert set(airflow["tasks"].values()) == {"success"}, airflow["tasks"]
    after = seen["executions_after_airflow"]
    assert set(after.values()) <= {"complete", "cached"}, after
    assert all(after[execution] in ("complete", "cached") for execution in seen["executions_before"])
    assert seen["missing_after_airflow"] == []
    assert len(seen["versions_after_airflow"]) == 1


def test_the_next_local_run_recovers_nothing_and_cancels_nothing(both):
    config, seen = both
    code, output = seen["local_again"]
    assert code == 0, output
    assert "was interrupted" not in output
    assert "canceled" not in set(seen["executions_at_end"].values())
    assert _missing_outputs(config) == []
