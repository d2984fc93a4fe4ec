"""The Airflow DAG file: it loads, mirrors the local pipeline's graph, and runs end to end.

Airflow configures itself (database, logging) on import, so each check runs in a
child process with AIRFLOW_HOME in a temporary directory; nothing leaks into
the other tests.
"""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest
import yaml
from workspace_helpers import small_config, write_small_spans

pytest.importorskip("airflow", reason="the airflow extra is not installed")

REPO = pathlib.Path(__file__).resolve().parents[2]
DAG_FILE = REPO / "pipelines" / "airflow_dag.py"

LOAD_DAG = """
import json
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
}}))
"""

RUN_DAG = """
import json
from airflow.utils import db
db.initdb()
from pipelines.airflow_dag import DAG
run = DAG.test()
states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
print("RESULT " + json.dumps({"state": str(run.state), "tasks": states}))
"""


def _write_config(config, path: pathlib.Path, **airflow) -> pathlib.Path:
    tree = config.model_dump(mode="json")
    tree["airflow"].update(airflow)
    path.write_text(yaml.safe_dump(tree), encoding="utf-8")
    return path


def _run_airflow(code: str, tmp_path: pathlib.Path, config_file: pathlib.Path, timeout: int) -> dict:
    """Runs `code` in a child Python with a private AIRFLOW_HOME; returns its RESULT line, parsed."""
    home = tmp_path / "airflow_home"
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FILE.parent),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "POLARITY_CONFIG": str(config_file),
        "PYTHONPATH": str(REPO),
    }
    env.pop("POLARITY_WORKSPACE", None)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    output = f"{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    assert done.returncode == 0 and lines, f"airflow child failed:\n{output}"
    return {**json.loads(lines[-1][len("RESULT ") :]), "log": output}


def _local_graph(config) -> dict:
    from pipelines.local_runner import build_local_pipeline

    pipeline = build_local_pipeline(config)
    return {node.id: sorted(upstream.id for upstream in node.upstream_nodes) for node in pipeline.components}


def test_dag_loads_with_the_local_pipelines_graph_and_the_configured_schedule(tmp_path):
    config = small_config(tmp_path / "workspace")
    config_file = _write_config(
        config, tmp_path / "polarity.yaml", schedule="30 4 * * 1", start_date="2025-06-01", retries=3
    )

    loaded = _run_airflow(
        LOAD_DAG.format(dag_file=str(DAG_FILE), dag_id=config.pipeline_name), tmp_path, config_file, 300
    )

    assert loaded["import_errors"] == {}
    assert loaded["graph"] == _local_graph(config)
    assert loaded["schedule"] == "30 4 * * 1"
    assert loaded["start_date"].startswith("2025-06-01")
    assert loaded["catchup"] is False
    assert loaded["retries"] == 3


def test_dag_test_runs_the_whole_pipeline_and_pushes_a_model(tmp_path):
    config = small_config(
        tmp_path / "workspace", "training.epochs=2", "evaluation.accuracy_floor=0.6", "data.min_rows=100"
    )
    write_small_spans(config, rows=1500)
    config_file = _write_config(config, tmp_path / "polarity.yaml", retries=0)

    result = _run_airflow(RUN_DAG, tmp_path, config_file, 600)

    unfinished = {task: state for task, state in result["tasks"].items() if state != "success"}
    assert result["state"] == "success" and not unfinished, f"{unfinished}\n{result['log']}"
    assert set(result["tasks"]) == set(_local_graph(config))
    versions = [path for path in config.serving_dir.iterdir() if path.name.isdigit()]
    assert len(versions) == 1, f"expected one pushed version in {config.serving_dir}, found {versions}"
    assert (versions[0] / "saved_model.pb").is_file()
