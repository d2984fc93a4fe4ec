"""A KFP recurring run of a compiled pipeline, through the KFP v2beta1 REST API.

The KFP SDK (kfp 2.x) needs protobuf>=4.21, which TFX 1.16 cannot use, so the
call is made with the standard library. It is the same request
`kfp.Client().create_recurring_run(...)` sends:
POST {host}/apis/v2beta1/recurringruns with a RecurringRun body.
"""

import json
import os
import pathlib
import urllib.error
import urllib.request

from polarity.config import Config, ConfigError

RECURRING_RUNS_PATH = "/apis/v2beta1/recurringruns"
TOKEN_ENV = "KFP_BEARER_TOKEN"
# KFP's cron (robfig/cron) has a leading seconds field and no @-presets of its own.
_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
}


def kfp_cron(expression: str) -> str:
    """KFP's six-field cron (seconds first) for a validated five-field expression or preset."""
    return "0 " + _PRESETS.get(expression, expression)


def recurring_run_body(
    config: Config, pipeline_spec: dict, parameters: dict, cron: str | None = None
) -> dict:
    """The RecurringRun message (JSON) for a compiled PipelineSpec.

    Args:
      config: the validated configuration (kubeflow section).
      pipeline_spec: the compiled PipelineSpec dict.
      parameters: pipeline parameter values for every run; the spec's
        defaults apply to the others.
      cron: a five-field cron expression; default kubeflow.schedule.

    Raises:
      ConfigError: for a parameter the pipeline does not declare, or an unset
        kubeflow.pipeline_root.
    """
    declared = pipeline_spec["root"].get("inputDefinitions", {}).get("parameters", {})
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ConfigError(
            f"--param {', '.join(unknown)}: not a parameter of this pipeline; "
            f"it takes {', '.join(sorted(declared)) or 'none'}"
        )
    if config.kubeflow.pipeline_root is None:
        raise ConfigError(
            "kubeflow.pipeline_root must be set, e.g. --set kubeflow.pipeline_root=gs://BUCKET/polarity"
        )
    body = {
        "display_name": f"{pipeline_spec['pipelineInfo']['name']}-scheduled",
        "description": "Trains on the newest span; pushes only a better model (polarity schedule kubeflow).",
        "pipeline_spec": pipeline_spec,
        "runtime_config": {"parameters": parameters, "pipeline_root": config.kubeflow.pipeline_root},
        "trigger": {"cron_schedule": {"cron": kfp_cron(cron or config.kubeflow.schedule)}},
        "max_concurrency": str(config.kubeflow.max_concurrency),
        "mode": "ENABLE",
        "no_catchup": True,
    }
    if config.kubeflow.experiment_id:
        body["experiment_id"] = config.kubeflow.experiment_id
    if config.kubeflow.namespace:
        body["namespace"] = config.kubeflow.namespace
    return body


def create_recurring_run(host: str, body: dict, timeout: float = 30) -> dict:
    """POSTs the recurring run; returns the created RecurringRun (with its id).

    Sends `Authorization: Bearer $KFP_BEARER_TOKEN` when that variable is set
    (multi-user Kubeflow behind an auth proxy).

    Raises:
      ConfigError: when the server cannot be reached or refuses the request,
        with its answer.
    """
    url = host.rstrip("/") + RECURRING_RUNS_PATH
    headers = {"Content-Type": "application/json"}
    if os.environ.get(TOKEN_ENV):
        headers["Authorization"] = f"Bearer {os.environ[TOKEN_ENV]}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:2000]
        raise ConfigError(f"KFP at {url} refused the recurring run (HTTP {error.code}): {detail}") from None
    except urllib.error.URLError as error:
        raise ConfigError(
            f"cannot reach KFP at {url} ({error.reason}); set kubeflow.host, e.g. after "
            "`kubectl port-forward -n kubeflow svc/ml-pipeline-ui 8080:80`"
        ) from None


def read_pipeline_spec(path: pathlib.Path) -> dict:
    """The PipelineSpec in a file written by `polarity compile kubeflow`.

    Raises:
      ConfigError: when the file is missing or is not a compiled pipeline.
    """
    import yaml

    path = pathlib.Path(path)
    if not path.is_file():
        raise ConfigError(f"--pipeline {path} does not exist; write it with `polarity compile kubeflow`")
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise ConfigError(f"--pipeline {path} is not valid JSON/YAML: {error}") from None
    spec = document.get("pipelineSpec", document) if isinstance(document, dict) else None
    if not isinstance(spec, dict) or "root" not in spec or "pipelineInfo" not in spec:
        raise ConfigError(
            f"--pipeline {path} holds no PipelineSpec; write it with `polarity compile kubeflow`"
        )
    return spec
