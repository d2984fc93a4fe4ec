"""`polarity compile kubeflow` and `polarity schedule kubeflow`: the pipeline on Kubeflow Pipelines v2."""

import json
import pathlib
import re
import sys

from polarity.config import Config, ConfigError

EXIT_OK = 0


def register(commands, add_common_flags) -> None:
    """Adds the `compile` and `schedule` sub-commands to the `polarity` parser."""
    compile_parser = commands.add_parser("compile", help="Compile the pipeline for an orchestrator.")
    targets = compile_parser.add_subparsers(dest="target", required=True, metavar="ORCHESTRATOR")
    kubeflow = targets.add_parser(
        "kubeflow", help="Kubeflow Pipelines v2 spec (.json PipelineJob or .yaml PipelineSpec), offline."
    )
    add_common_flags(kubeflow)
    kubeflow.add_argument("--output", type=pathlib.Path, required=True, help="pipeline.json or pipeline.yaml")
    kubeflow.set_defaults(handler=cmd_compile_kubeflow)

    schedule_parser = commands.add_parser("schedule", help="Schedule recurring runs on an orchestrator.")
    schedulers = schedule_parser.add_subparsers(dest="target", required=True, metavar="ORCHESTRATOR")
    recurring = schedulers.add_parser(
        "kubeflow", help="Create a KFP recurring run of a compiled pipeline (v2beta1 REST API)."
    )
    add_common_flags(recurring)
    recurring.add_argument(
        "--pipeline", type=pathlib.Path, required=True, help="File written by `polarity compile kubeflow`."
    )
    recurring.add_argument("--cron", help="Five-field cron expression; default kubeflow.schedule.")
    recurring.add_argument(
        "--param",
        dest="params",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="Pipeline parameter for every scheduled run, e.g. --param data_root=gs://b/data (repeatable).",
    )
    recurring.add_argument(
        "--dry-run", action="store_true", help="Print the request body (JSON) instead of sending it."
    )
    recurring.set_defaults(handler=cmd_schedule_kubeflow)


def cmd_compile_kubeflow(args, config: Config) -> int:
    from pipelines.kubeflow_runner import compile_kubeflow

    job = compile_kubeflow(config, args.output)
    spec = job["pipelineSpec"]
    parameters = sorted(spec["root"]["inputDefinitions"]["parameters"])
    print(
        f"Compiled '{spec['pipelineInfo']['name']}' ({len(spec['root']['dag']['tasks'])} tasks, "
        f"image {config.kubeflow.image}) to {args.output}; parameters: {', '.join(parameters)}"
    )
    return EXIT_OK


def _parse_params(items: list[str]) -> dict:
    params = {}
    for item in items:
        match = re.fullmatch(r"([A-Za-z_]\w*)=(.*)", item, flags=re.DOTALL)
        if not match:
            raise ConfigError(f"--param {item!r}: expected NAME=VALUE, e.g. data_root=gs://bucket/data")
        params[match.group(1)] = match.group(2)
    return params


def cmd_schedule_kubeflow(args, config: Config) -> int:
    from pipelines import kubeflow_schedule
    from polarity.config import check_cron

    cron = None
    if args.cron is not None:
        try:
            cron = check_cron(args.cron)
        except ValueError as error:
            raise ConfigError(f"--cron: {error}") from None
    spec = kubeflow_schedule.read_pipeline_spec(args.pipeline)
    body = kubeflow_schedule.recurring_run_body(config, spec, _parse_params(args.params), cron)
    url = config.kubeflow.host.rstrip("/") + kubeflow_schedule.RECURRING_RUNS_PATH
    if args.dry_run:
        print(f"POST {url}", file=sys.stderr)
        print(json.dumps(body, indent=2))
        return EXIT_OK
    created = kubeflow_schedule.create_recurring_run(config.kubeflow.host, body)
    print(
        f"Recurring run {created.get('recurring_run_id', '?')} created at {config.kubeflow.host}: "
        f"'{body['display_name']}' on cron '{body['trigger']['cron_schedule']['cron']}' (KFP: seconds first)"
    )
    return EXIT_OK
