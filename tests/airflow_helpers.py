"""Airflow for tests: a private AIRFLOW_HOME, the DAG in a child process, a real scheduler.

Airflow configures itself (database, logging) on import, so nothing Airflow runs
in the test process: children get AIRFLOW_HOME in a temporary directory, the
DAG folder `pipelines/`, SQLite and the SequentialExecutor.
"""

import contextlib
import io
import json
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import yaml
from workspace_helpers import run_cli

REPO = pathlib.Path(__file__).resolve().parents[1]
DAG_FILE = REPO / "pipelines" / "airflow_dag.py"
BIN = pathlib.Path(sys.executable).parent

RUN_DAG_TEST = """
import json
from airflow.utils import db
db.initdb()
from pipelines.airflow_dag import DAG
run = DAG.test()
states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
print("RESULT " + json.dumps({"state": str(run.state), "tasks": states}))
"""


def cli_json(*argv: str) -> dict:
    """The JSON a `polarity` command prints with --json, run in-process."""
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert run_cli(*argv, "--json") == 0
    # After an in-process run, TFX's absl logging also writes lines to stdout.
    lines = out.getvalue().splitlines()
    return json.loads("\n".join(lines[lines.index("{") :]))


def write_config(config, path: pathlib.Path, **airflow) -> pathlib.Path:
    """The configuration as a YAML file (for $POLARITY_CONFIG), with `airflow` settings changed."""
    tree = config.model_dump(mode="json")
    tree["airflow"].update(airflow)
    path.write_text(yaml.safe_dump(tree), encoding="utf-8")
    return path


def airflow_env(home: pathlib.Path, config_file: pathlib.Path) -> dict:
    """The environment of an Airflow child: private home, SQLite, SequentialExecutor, our DAG folder."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "SequentialExecutor",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FILE.parent),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "POLARITY_CONFIG": str(config_file),
        "PYTHONPATH": str(REPO),
        # The executor starts `airflow tasks run` by name: the one of this virtualenv.
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        # CI runs two test processes on 2 cores: parsing the DAG there can pass Airflow's 30 s default.
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
        "AIRFLOW__CORE__DAG_FILE_PROCESSOR_TIMEOUT": "300",
    }
    env.pop("POLARITY_WORKSPACE", None)
    return env


def start_python(code: str, cwd: pathlib.Path, env: dict) -> subprocess.Popen:
    """`code` in a child Python, its output captured."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def result_of(process: subprocess.Popen, timeout: float) -> dict:
    """The child's RESULT line, parsed, with "log": the end of its output."""
    stdout, stderr = process.communicate(timeout=timeout)
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    output = f"{stdout[-3000:]}\n{stderr[-6000:]}"
    assert process.returncode == 0 and lines, f"airflow child failed:\n{output}"
    return {**json.loads(lines[-1][len("RESULT ") :]), "log": output}


def run_airflow_code(code: str, tmp_path: pathlib.Path, config_file: pathlib.Path, timeout: int) -> dict:
    """Runs `code` in a child Python with a private AIRFLOW_HOME; returns its RESULT line, parsed."""
    env = airflow_env(tmp_path / "airflow_home", config_file)
    return result_of(start_python(code, tmp_path, env), timeout)


def airflow(env: dict, *args: str, timeout: float = 300) -> str:
    """Runs the `airflow` command; its output. Fails the test on a non-zero exit."""
    done = subprocess.run(
        [str(BIN / "airflow"), *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, (
        f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


def _query(database: pathlib.Path, sql: str, *params) -> list[tuple]:
    """Rows from Airflow's SQLite database, read-only; [] while it is locked or not there."""
    if not database.is_file():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as db:
            return db.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []


class Scheduler:
    """`airflow scheduler` in its own process group, with a database of its own."""

    def __init__(self, home: pathlib.Path, config_file: pathlib.Path):
        self.env = airflow_env(home, config_file)
        self.database = home / "airflow.db"
        self.log = home / "scheduler.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        airflow(self.env, "db", "migrate")
        with open(self.log, "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [str(BIN / "airflow"), "scheduler"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        """SIGTERM to the scheduler's process group, SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def wait_for_dag(self, dag_id: str, timeout: float) -> None:
        """Waits until the scheduler has parsed the DAG file and holds the DAG."""
        sql = "SELECT is_active FROM dag WHERE dag_id = ?"
        self._wait(lambda: _query(self.database, sql, dag_id) == [(1,)], timeout, f"DAG {dag_id} parsed")

    def dag_run_state(self, dag_id: str, run_id: str) -> str | None:
        rows = _query(
            self.database, "SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ?", dag_id, run_id
        )
        return rows[0][0] if rows else None

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        sql = "SELECT task_id, state FROM task_instance WHERE dag_id = ? AND run_id = ?"
        return dict(_query(self.database, sql, dag_id, run_id))

    def task_times(self, dag_id: str, run_id: str) -> list[tuple[str, str, str]]:
        sql = "SELECT task_id, start_date, end_date FROM task_instance WHERE dag_id = ? AND run_id = ?"
        return sorted(_query(self.database, sql, dag_id, run_id), key=lambda row: row[1] or "")

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """Waits until the DAG run succeeds or fails; its final state."""
        done = ("success", "failed")
        self._wait(lambda: self.dag_run_state(dag_id, run_id) in done, timeout, f"DAG run {run_id} finished")
        return self.dag_run_state(dag_id, run_id)

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            assert self.process.poll() is None, (
                f"the scheduler ended while waiting for {what}:\n{self.tail()}"
            )
            assert time.monotonic() < deadline, f"no {what} in {timeout} s:\n{self.tail()}"
            time.sleep(2)

    def tail(self, chars: int = 6000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:] if self.log.is_file() else ""
