"""The Airflow DAG file: it loads fast, mirrors the local pipeline's graph, and runs end to end.

Airflow configures itself (database, logging) on import, so each check runs in a
child process with AIRFLOW_HOME in a temporary directory (tests/airflow_helpers.py);
nothing leaks into the other tests.
"""

import importlib.util
import pathlib

import pytest
from airflow_helpers import DAG_FILE, RUN_DAG_TEST, cli_json, run_airflow_code, write_config
from workspace_helpers import run_cli, small_config, small_run_flags, write_small_spans

from polarity import card_location, html_report

# Not importorskip: importing Airflow here would configure logging in the test process, and its
# console handler would then print every library log line into captured stdout.
if importlib.util.find_spec("airflow") is None:
    pytest.skip("the airflow extra is not installed", allow_module_level=True)

# Four pipeline runs, two of them under Airflow (below).
pytestmark = pytest.mark.start_first

LOAD_DAG = """
import json, sys
from airflow.models import DagBag
bag = DagBag(dag_folder={dag_file!r}, include_examples=False)
dag = bag.dags.get("{dag_id}")
print("RESULT " + json.dumps({{
    "import_errors": {{path: str(error) for path, error in bag.import_errors.items()}},
    "graph": {{task.task_id: sorted(task.upstream_task_ids) for task in dag.tasks}} if dag else None,
    "schedule": dag.schedule_interval if dag else None,
    "start_date": dag.start_date.isoformat() if dag else None,
    "catchup": dag.catchup if dag else None,
    "retries": dag.default_args.get("retries") if dag else None,
    "imported": sorted(name for name in ("tensorflow", "tfx") if name in sys.modules),
}}))
"""


def _local_graph(config) -> dict:
    from pipelines.local_runner import build_local_pipeline

    pipeline = build_local_pipeline(config)
    return {node.id: sorted(upstream.id for upstream in node.upstream_nodes) for node in pipeline.components}


def _dag_graph(config) -> dict:
    """The local pipeline's graph, then the report task after every component."""
    graph = _local_graph(config)
    return {**graph, "report": sorted(graph)}


def test_dag_loads_with_the_local_pipelines_graph_and_the_configured_schedule(tmp_path):
    config = small_config(tmp_path / "workspace")
    config_file = write_config(
        config, tmp_path / "polarity.yaml", schedule="30 4 * * 1", start_date="2025-06-01", retries=3
    )
    load = LOAD_DAG.format(dag_file=str(DAG_FILE), dag_id=config.pipeline_name)

    first = run_airflow_code(load, tmp_path, config_file, 300)
    again = run_airflow_code(load, tmp_path, config_file, 300)

    for loaded in (first, again):
        assert loaded["import_errors"] == {}
        assert loaded["graph"] == _dag_graph(config)
        assert loaded["schedule"] == "30 4 * * 1"
        assert loaded["start_date"].startswith("2025-06-01")
        assert loaded["catchup"] is False
        assert loaded["retries"] == 3
    # Airflow parses the file again and again: once the graph is known, without TensorFlow or TFX.
    assert again["imported"] == [], again["log"]


def test_a_changed_configuration_rebuilds_the_graph(tmp_path):
    config = small_config(tmp_path / "workspace")
    config_file = write_config(config, tmp_path / "polarity.yaml")
    load = LOAD_DAG.format(dag_file=str(DAG_FILE), dag_id=config.pipeline_name)
    run_airflow_code(load, tmp_path, config_file, 300)

    write_config(config, config_file, retries=4)
    changed = run_airflow_code(load, tmp_path, config_file, 300)

    assert changed["imported"] == ["tensorflow", "tfx"], "a new key must rebuild the graph with TFX"
    assert changed["graph"] == _dag_graph(config) and changed["retries"] == 4


# Two pipeline runs under `dag.test()` and two local ones: about 6 minutes on a quiet 2-core
# machine, much more beside another test process.
RUNS_TIMEOUT = 2400
# A small span's model may score a little under the last one; every run must still push.
RUN_OVERRIDES = ("training.epochs=2", "data.min_rows=100", "evaluation.max_accuracy_drop=0.5")


def _served_lineage(config) -> dict:
    return cli_json("lineage", "--workspace", str(config.workspace))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Local, Airflow, Airflow, local, each on a new span of its own (the Airflow runs by
    `dag.test()`): per run, its runner, the served model's lineage after it, the reports
    written by then and, for Airflow, the DAG run's states."""
    tmp_path = tmp_path_factory.mktemp("airflow_runs")
    config = small_config(tmp_path / "workspace", *RUN_OVERRIDES)
    config_file = write_config(config, tmp_path / "polarity.yaml", retries=0)
    flags = ["--workspace", str(config.workspace), *small_run_flags(*RUN_OVERRIDES)]
    reports = config.workspace / html_report.REPORTS_DIR
    done = []
    for span, runner in enumerate(["local", "airflow", "airflow", "local"], start=1):
        write_small_spans(config, rows=1200, first_span=span, seed=span)
        run = {"runner": runner}
        if runner == "airflow":
            run["dag_run"] = run_airflow_code(RUN_DAG_TEST, tmp_path, config_file, 900)
        else:
            assert run_cli("run", *flags) == 0, f"the local run on span {span} failed"
        run["lineage"] = _served_lineage(config)
        run["reports"] = sorted(path.name for path in reports.glob("*.html"))
        done.append(run)
    return config, done


@pytest.mark.timeout(RUNS_TIMEOUT)
def test_dag_test_runs_the_whole_pipeline_and_pushes_a_model(runs):
    config, done = runs
    reports_before = []
    for run in done:
        if run["runner"] == "airflow":
            result = run["dag_run"]
            unfinished = {task: state for task, state in result["tasks"].items() if state != "success"}
            assert result["state"] == "success" and not unfinished, f"{unfinished}\n{result['log']}"
            assert set(result["tasks"]) == set(_dag_graph(config))
            version = run["lineage"]["pushed_version"]
            assert (config.serving_dir / str(version) / "saved_model.pb").is_file()
            # The report task wrote the run's report and the pushed version's model card,
            # outside the serving directory, as `polarity run` does.
            card = card_location.find_card(config.serving_dir, int(version))
            assert card is not None, f"no model card for version {version}\n{result['log']}"
            assert str(version) in pathlib.Path(card).read_text(encoding="utf-8")
            assert len(run["reports"]) == len(reports_before) + 1, "the DAG run wrote no run report"
        reports_before = run["reports"]


@pytest.mark.timeout(RUNS_TIMEOUT)
def test_local_and_airflow_runs_judge_each_new_model_against_the_one_pushed_before(runs):
    """Local, Airflow, Airflow, local, each on a new span: each run's baseline is the model the
    run before it pushed, whichever runner recorded that run (the two runners tie a verdict to
    the BlessingGate differently, and TFX's legacy resolver sees every Airflow-trained model as
    a candidate)."""
    _, done = runs
    served = [run["lineage"] for run in done]
    for span, lineage in enumerate(served, start=1):
        assert lineage["spans"] == [span] and lineage["blessed"] is True, lineage

    pushed = [run["pushed_version"] for run in served]
    baselines = [run["baseline"] and run["baseline"]["pushed_version"] for run in served]
    assert len(set(pushed)) == len(done), pushed
    # Local, then Airflow (the verdict the local runner recorded), Airflow again (the model an
    # Airflow run trained), then local (the verdict the Airflow runner recorded).
    assert baselines == [None, *pushed[:-1]], f"pushed {pushed}, judged against {baselines}"
    trained = [run["trained_in_run"] for run in served]
    assert [run["baseline"]["trained_in_run"] for run in served[1:]] == trained[:-1]
