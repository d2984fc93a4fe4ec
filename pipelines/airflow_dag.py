"""The Polarity pipeline as an Airflow DAG (TFX's AirflowDagRunner), for Airflow's DAG folder.

Airflow imports this file to find `DAG`. The configuration is the YAML file
named by $POLARITY_CONFIG (unset: the defaults, workspace ./workspace), and
$POLARITY_WORKSPACE, when set, overrides its workspace. Tasks run in the
Airflow worker: paths are local, and ML Metadata is the workspace's SQLite
store, the one `polarity run` and `polarity status` use.

Airflow parses this file over and over (the scheduler's DAG processor every
`min_file_process_interval`, and every `airflow tasks run` process once), so it
imports neither TensorFlow nor TFX: the graph (task ids and their upstream
tasks) comes from `create_pipeline` once, and is kept in
<workspace>/.airflow_graph.json under a key of the configuration and of the
pipeline's source files. Each task builds the pipeline with TFX's
AirflowDagRunner when it runs and executes that runner's task for its
component, inside the workspace guard (polarity/recovery.py): it waits for
another writer (`polarity run`, a rollback) to finish, and closes what a
killed writer left unfinished. A last task, `report`, writes the run's report and
the pushed version's model card, as `polarity run` does after a run.
"""

import datetime
import functools
import hashlib
import json
import logging
import os
import pathlib

from airflow import models
from airflow.operators.python import PythonOperator
from airflow.utils.trigger_rule import TriggerRule

from polarity.config import Config, load_config

CONFIG_ENV = "POLARITY_CONFIG"
WORKSPACE_ENV = "POLARITY_WORKSPACE"
GRAPH_FILE = ".airflow_graph.json"
# The task after the pipeline's: the run report and the pushed version's model card.
REPORT_TASK = "report"
# A task waits this long for another writer of the workspace (a `polarity run`) to finish.
LOCK_WAIT_SECONDS = 6 * 3600
# The packages whose code decides the graph; a change to one rebuilds it.
_GRAPH_SOURCES = ("pipelines", "components")
# Execution-type properties TFX's legacy launcher (tfx/orchestration/metadata.py) writes
# on every execution, besides one per execution property.
_LEGACY_EXECUTION_PROPERTIES = ("state", "pipeline_name", "pipeline_root", "run_id", "component_id")

log = logging.getLogger(__name__)


def config_from_environment(environ=os.environ) -> Config:
    """The configuration this DAG file is built from (see the module docstring)."""
    return load_config(environ.get(CONFIG_ENV) or None, workspace=environ.get(WORKSPACE_ENV) or None)


def dag_settings(config: Config) -> dict:
    """Airflow DAG arguments from the `airflow` configuration section."""
    settings = config.airflow
    start = settings.start_date
    return {
        "schedule": settings.schedule,
        "start_date": datetime.datetime(start.year, start.month, start.day, tzinfo=datetime.timezone.utc),
        "catchup": settings.catchup,
        "max_active_runs": 1,  # two runs would race for the same span and serving directory
        "default_args": {
            "retries": settings.retries,
            "retry_delay": datetime.timedelta(minutes=settings.retry_delay_minutes),
        },
        "tags": ["polarity", "tfx"],
    }


def _graph_key(config: Config) -> str:
    """A digest of what the graph depends on: the configuration and the pipeline's code."""
    digest = hashlib.sha256(config.model_dump_json().encode("utf-8"))
    root = pathlib.Path(__file__).resolve().parents[1]
    for package in _GRAPH_SOURCES:
        for source in sorted((root / package).glob("*.py")):
            digest.update(source.name.encode("utf-8") + source.read_bytes())
    return digest.hexdigest()


def _build_graph(config: Config) -> list[list]:
    """[[node id, [upstream ids]], ...] of create_pipeline, in topological order (imports TFX)."""
    from pipelines.local_runner import build_local_pipeline

    pipeline = build_local_pipeline(config)
    return [
        [node.id, sorted(upstream.id for upstream in node.upstream_nodes)] for node in pipeline.components
    ]


def pipeline_graph(config: Config) -> list[list]:
    """The pipeline's graph, from <workspace>/.airflow_graph.json when its key still matches."""
    path = pathlib.Path(config.workspace).absolute() / GRAPH_FILE
    key = _graph_key(config)
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("key") == key:
            return cached["graph"]
    except (OSError, ValueError, KeyError):
        pass
    graph = _build_graph(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps({"key": key, "graph": graph}), encoding="utf-8")
    partial.replace(path)  # atomic: a parser running at the same time reads one whole graph
    return graph


def _tfx_task(config: Config, component_id: str, upstream: list[str]):
    """The task TFX's AirflowDagRunner makes for the component, checked against this DAG's graph."""
    from tfx.orchestration.airflow.airflow_dag_runner import AirflowDagRunner, AirflowPipelineConfig

    from pipelines.local_runner import build_local_pipeline

    runner = AirflowDagRunner(AirflowPipelineConfig(airflow_dag_config=dag_settings(config)))
    task = runner.run(build_local_pipeline(config)).get_task(component_id)
    if sorted(task.upstream_task_ids) != sorted(upstream):
        raise RuntimeError(
            f"the Airflow DAG's task {component_id} runs after {sorted(upstream)}, but the pipeline "
            f"now puts it after {sorted(task.upstream_task_ids)}: the DAG Airflow parsed is stale. "
            f"Delete {pathlib.Path(config.workspace).absolute() / GRAPH_FILE} and let Airflow parse "
            "the DAG file again (`airflow dags reserialize`), then clear the run."
        )
    return task


def register_legacy_execution_type(store, component) -> None:
    """Gives the component's ML Metadata execution type the properties TFX's legacy launcher writes.

    The local runner registers a component's execution type without properties.
    The legacy launcher reuses a registered type when it holds all the
    component's execution properties, and a component with none (BlessingGate)
    passes that check, so its executions' "state", "run_id", ... would be
    refused ("Found unknown property"). Adding them keeps the type valid for
    both runners (the local runner registers with can_add_fields and
    can_omit_fields, so it accepts the wider type).
    """
    from ml_metadata import errors
    from ml_metadata.proto import metadata_store_pb2

    try:
        registered = store.get_execution_type(component.type)
    except errors.NotFoundError:
        return  # TFX registers it with every property
    wanted = [*_LEGACY_EXECUTION_PROPERTIES, *component.exec_properties]
    if "module_file" in component.exec_properties:
        wanted.append("checksum_md5")
    missing = [name for name in wanted if name not in registered.properties]
    if not missing:
        return
    wider = metadata_store_pb2.ExecutionType()
    wider.CopyFrom(registered)
    for name in missing:
        wider.properties[name] = metadata_store_pb2.STRING
    store.put_execution_type(wider, can_add_fields=True, can_omit_fields=True)


def _launch(config: Config, task, context: dict) -> None:
    """Runs TFX's task for the component; marks what it left unfinished failed if it raises."""
    from polarity import lock, metadata, recovery

    if config.metadata_path.is_file():
        register_legacy_execution_type(
            metadata.open_store(config.metadata_path), task.python_callable.keywords["component"]
        )
    task.render_template_fields(context)  # its exec_properties, as Airflow renders a task's own
    try:
        # TFX's callable reads only the task instance (for the DAG run id) from the context.
        task.python_callable(**task.op_kwargs, ti=context["ti"])
    except BaseException as error:
        if config.metadata_path.is_file():
            recovery.fail_unfinished(
                metadata.open_store(config.metadata_path),
                since_ms=lock.held_here().acquired_ms,
                message=f"Airflow task {task.task_id} failed: {type(error).__name__}: {error}",
            )
        raise


def run_component(config: Config, component_id: str, upstream: list[str], **context) -> None:
    """An Airflow task: one pipeline component, run inside the workspace guard."""
    from polarity import recovery

    command = f"airflow task {context['dag'].dag_id}.{component_id} (run {context['run_id']})"
    with recovery.workspace_writer(
        config.workspace,
        config.metadata_path,
        config.pipeline_root,
        command=command,
        wait_seconds=LOCK_WAIT_SECONDS,
        on_wait=log.info,
    ) as closed:
        for line in closed:
            log.warning(line)
        _launch(config, _tfx_task(config, component_id, upstream), context)


def write_report(config: Config, **context) -> None:
    """The last Airflow task: the run's report and, when it pushed, the version's model card,
    as `polarity run` writes them. It runs whether the pipeline passed or halted, and a
    report that cannot be written is a warning in its log, never a failed DAG run."""
    import io

    from polarity import report_commands

    printed = io.StringIO()
    report_commands.after_run(config, out=printed)
    for line in printed.getvalue().splitlines():
        log.info("%s", line)


def build_airflow_dag(config: Config) -> models.DAG:
    """The Airflow DAG of the one pipeline (`create_pipeline`), one task per component, then
    REPORT_TASK once every component has finished, failed or been skipped."""
    dag = models.DAG(dag_id=config.pipeline_name, **dag_settings(config))
    tasks = {}
    for component_id, upstream in pipeline_graph(config):
        tasks[component_id] = PythonOperator(
            task_id=component_id,
            python_callable=functools.partial(run_component, config, component_id, upstream),
            dag=dag,
        )
        for name in upstream:
            tasks[component_id].set_upstream(tasks[name])
    report = PythonOperator(
        task_id=REPORT_TASK,
        python_callable=functools.partial(write_report, config),
        trigger_rule=TriggerRule.ALL_DONE,
        dag=dag,
    )
    report.set_upstream(list(tasks.values()))
    return dag


DAG = build_airflow_dag(config_from_environment())
