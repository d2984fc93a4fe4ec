"""The Polarity pipeline as an Airflow DAG (AirflowDagRunner), for Airflow's DAG folder.

Airflow imports this file to find `DAG`. The configuration is the YAML file
named by $POLARITY_CONFIG (unset: the defaults, workspace ./workspace), and
$POLARITY_WORKSPACE, when set, overrides its workspace. Tasks run in the
Airflow worker: paths are local, and ML Metadata is the workspace's SQLite
store, the one `polarity run` and `polarity status` use.
"""

import datetime
import os

# tfx.v1 exports no Airflow runner (TFX 1.16): this is the only import path.
from tfx.orchestration.airflow.airflow_dag_runner import AirflowDagRunner, AirflowPipelineConfig

from pipelines.local_runner import build_local_pipeline
from polarity.config import Config, load_config

CONFIG_ENV = "POLARITY_CONFIG"
WORKSPACE_ENV = "POLARITY_WORKSPACE"


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


def build_airflow_dag(config: Config):
    """The Airflow DAG of the one pipeline (`create_pipeline`), with local paths."""
    pipeline = build_local_pipeline(config)
    runner = AirflowDagRunner(AirflowPipelineConfig(airflow_dag_config=dag_settings(config)))
    return runner.run(pipeline)


DAG = build_airflow_dag(config_from_environment())
