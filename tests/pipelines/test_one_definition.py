"""One pipeline definition: runners choose paths and the orchestrator, never components.

Every module in pipelines/ other than the definition (pipeline.py) and its
argument mapping (params.py) is a runner or a command; none may build a
component, a resolver, a channel, an EvalConfig or a Pipeline of its own.
"""

import ast
import pathlib

import pytest

from pipelines import pipeline as definition

PIPELINES = pathlib.Path(definition.__file__).parent
DEFINITION_MODULES = {"__init__.py", "pipeline.py", "params.py"}
RUNNER_FILES = sorted(path for path in PIPELINES.glob("*.py") if path.name not in DEFINITION_MODULES)
# What builds DAG pieces: TFX components, DSL nodes and protos, TFMA, our components package.
FORBIDDEN_PREFIXES = (
    "tfx.components",
    "tfx.dsl.Resolver",
    "tfx.dsl.Pipeline",
    "tfx.dsl.Channel",
    "tfx.proto",
)
FORBIDDEN_MODULES = ("components", "tensorflow_model_analysis", "tfx.components", "tfx.dsl.components")


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def builds_of_its_own(source: str) -> list[str]:
    """Every call in `source` that builds a pipeline piece, and every import of one's module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _dotted(node.func).startswith(FORBIDDEN_PREFIXES):
            found.append(_dotted(node.func))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(FORBIDDEN_MODULES):
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith(FORBIDDEN_MODULES)]
    return found


def test_the_check_catches_a_runner_that_builds_a_component():
    rogue = "from tfx import v1 as tfx\ngen = tfx.components.CsvExampleGen(input_base='x')\n"
    assert builds_of_its_own(rogue) == ["tfx.components.CsvExampleGen"]
    assert builds_of_its_own("p = tfx.dsl.Pipeline(pipeline_name='x', components=[])") == ["tfx.dsl.Pipeline"]
    assert builds_of_its_own("from components.pusher import AtomicPusher\n") == [
        "from components.pusher import ..."
    ]


def test_there_are_runners_to_check():
    names = {path.name for path in RUNNER_FILES}
    assert {"local_runner.py", "kubeflow_runner.py", "airflow_dag.py"} <= names


@pytest.mark.parametrize("path", RUNNER_FILES, ids=lambda path: path.name)
def test_no_runner_builds_pipeline_pieces(path):
    assert builds_of_its_own(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "path",
    [PIPELINES / "local_runner.py", PIPELINES / "kubeflow_runner.py", PIPELINES / "airflow_dag.py"],
    ids=lambda path: path.name,
)
def test_every_runner_gets_its_dag_from_create_pipeline(path):
    source = path.read_text(encoding="utf-8")
    assert "create_pipeline(" in source or "build_local_pipeline(" in source


@pytest.mark.parametrize("runner", ["local", "kubeflow"])
def test_the_runners_pipeline_is_the_one_create_pipeline_returned(runner, tmp_path, monkeypatch):
    from pipelines import kubeflow_runner, local_runner
    from polarity.config import load_config

    built = []

    def spy(**kwargs):
        built.append(definition.create_pipeline(**kwargs))
        return built[-1]

    monkeypatch.setattr(local_runner, "create_pipeline", spy)
    monkeypatch.setattr(kubeflow_runner, "create_pipeline", spy)
    config = load_config(
        overrides=["kubeflow.image=polarity:1", "kubeflow.pipeline_root=gs://b/root"], workspace=tmp_path
    )
    build = {"local": local_runner.build_local_pipeline, "kubeflow": kubeflow_runner.build_kubeflow_pipeline}
    result = build[runner](config)
    assert len(built) == 1
    assert result is built[0]
    # The same components; their order may differ, as Kubeflow's baseline
    # resolver does not wait for the Trainer (pipelines/pipeline.py).
    assert sorted(component.id for component in result.components) == sorted(
        component.id for component in definition.create_pipeline(**_kwargs(config)).components
    )


def _kwargs(config):
    from pipelines.params import pipeline_kwargs

    return pipeline_kwargs(config)
