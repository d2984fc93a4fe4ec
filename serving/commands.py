"""`polarity serve`, `polarity predict` and `polarity explain`.

`serve` takes tensorflow_model_server's own flags (--rest_api_port, --model_name,
--model_base_path, --model_config_file, --enable_batching, ...) so a command line
moves between the two; the model defaults to the workspace's push directory.
"""

import functools
import json
import logging
import pathlib
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(commands, add_common_flags) -> None:
    """Adds `serve`, `predict` and `explain` to the `polarity` sub-commands."""
    from serving import client, server, versions

    serve = commands.add_parser("serve", help="Serve pushed models over TF Serving's REST API.")
    add_common_flags(serve)
    serve.add_argument(
        "--rest_api_port", type=int, default=8501, help="REST port (default 8501; 0: any free)."
    )
    serve.add_argument(
        "--host", default=server.DEFAULT_HOST, help="Address to bind (default 127.0.0.1: this machine only)."
    )
    serve.add_argument("--model_name", help="Model name in URLs (default: serving.model_name).")
    serve.add_argument("--model_base_path", help="Versions directory, a path or URI (default: the push dir).")
    serve.add_argument(
        "--model_config_file", type=pathlib.Path, help="A ModelServerConfig text proto (models.config)."
    )
    serve.add_argument(
        "--model_config_file_poll_wait_seconds",
        type=float,
        default=0,
        help="Re-read --model_config_file this often to apply new version labels (0: never).",
    )
    serve.add_argument(
        "--enable_batching", action="store_true", help="Batch concurrent requests server-side."
    )
    serve.add_argument("--batching_parameters_file", type=pathlib.Path, help="BatchingParameters text proto.")
    serve.add_argument("--rest_api_timeout_in_ms", type=int, default=30_000, help="Per-request deadline.")
    serve.add_argument(
        "--rest_api_num_threads", type=int, default=4, help="Inference threads without batching."
    )
    defaults = versions.LoadOptions()
    serve.add_argument(
        "--file_system_poll_wait_seconds", type=float, default=defaults.file_system_poll_wait_seconds
    )
    serve.add_argument("--max_num_load_retries", type=int, default=defaults.max_num_load_retries)
    serve.add_argument(
        "--allow_version_labels_for_unavailable_models",
        action="store_true",
        help="Let the config's version_labels point at versions not loaded yet (as TF Serving's flag).",
    )
    serve.add_argument(
        "--enable_signature_method_name_check",
        action="store_true",
        help="Run :classify/:regress only on signatures with the matching method_name.",
    )
    serve.add_argument("--load_retry_interval_micros", type=int, default=defaults.load_retry_interval_micros)
    serve.add_argument(
        "--auth_token_file", type=pathlib.Path, help="Require 'Authorization: Bearer <file content>'."
    )
    serve.add_argument("--max_request_bytes", type=int, default=server.DEFAULT_MAX_REQUEST_BYTES)
    serve.set_defaults(handler=cmd_serve)

    predict = commands.add_parser("predict", help="Score reviews with a running server (REST).")
    add_common_flags(predict)
    predict.add_argument("texts", nargs="+", metavar="TEXT", help="Review text(s) to score.")
    predict.add_argument("--url", default=client.DEFAULT_REST_URL, help="Server URL (default %(default)s).")
    predict.add_argument("--model_name", help="Model name (default: serving.model_name).")
    predict.add_argument(
        "--auth_token_file", type=pathlib.Path, help="Bearer token file, if the server needs one."
    )
    predict.add_argument("--json", action="store_true", help="Print JSON.")
    predict.set_defaults(handler=cmd_predict)

    explain = commands.add_parser(
        "explain", help="Show which words decided a text's scores (exact attributions, SHAP-style colours)."
    )
    add_common_flags(explain)
    explain.add_argument("texts", nargs="+", metavar="TEXT", help="Text(s) to explain.")
    source = explain.add_mutually_exclusive_group()
    source.add_argument(
        "--model",
        metavar="VERSION",
        help="Load this pushed version from the workspace's serving dir in-process ('latest': the newest) "
        "instead of asking a server.",
    )
    source.add_argument("--url", help=f"Server URL (default {client.DEFAULT_REST_URL}).")
    explain.add_argument("--model_name", help="Model name on the server (default: serving.model_name).")
    explain.add_argument(
        "--auth_token_file", type=pathlib.Path, help="Bearer token file, if the server needs one."
    )
    explain.add_argument(
        "--class", dest="class_name", help="Class to explain (default: each text's top class)."
    )
    explain.add_argument("--json", action="store_true", help="Print the explanations as JSON.")
    explain.add_argument(
        "--html", type=pathlib.Path, metavar="FILE", help="Also write a self-contained HTML page."
    )
    explain.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="Colour tokens (auto: on a terminal).",
    )
    explain.set_defaults(handler=cmd_explain)


def _read_token(path) -> str | None:
    if path is None:
        return None
    token = pathlib.Path(path).read_text(encoding="utf-8").strip()
    if not token:
        raise ValueError(f"auth token file {path} is empty")
    return token


def server_options(args, config):
    """ServerOptions from `serve`'s flags and the configuration (raises ValueError)."""
    from serving import batching, core, model_config, model_dir, server, versions

    read_config = None
    if args.model_config_file is not None:
        if args.model_name or args.model_base_path:
            raise ValueError("give --model_config_file or --model_name/--model_base_path, not both")
        read_config = functools.partial(model_config.read_model_config, args.model_config_file)
        models = read_config()
    else:
        name = args.model_name or config.serving.model_name
        base = args.model_base_path or config.serving_dir
        if not model_dir.is_uri(base):
            base = pathlib.Path(base).absolute()
        models = (core.ModelConfig(name, base),)
    params = None
    if args.enable_batching or args.batching_parameters_file:
        params = (
            batching.read_batching_parameters(args.batching_parameters_file)
            if args.batching_parameters_file
            else batching.BatchingParameters()
        )
    load = versions.LoadOptions(
        args.file_system_poll_wait_seconds, args.max_num_load_retries, args.load_retry_interval_micros
    )
    return server.ServerOptions(
        core=core.CoreOptions(
            models=models,
            batching=params,
            load=load,
            rest_api_timeout_in_ms=args.rest_api_timeout_in_ms,
            num_inference_threads=args.rest_api_num_threads,
            allow_version_labels_for_unavailable_models=args.allow_version_labels_for_unavailable_models,
            enable_signature_method_name_check=args.enable_signature_method_name_check,
            read_model_config=read_config,
            model_config_file_poll_wait_seconds=args.model_config_file_poll_wait_seconds,
        ),
        host=args.host,
        rest_api_port=args.rest_api_port,
        auth_token=_read_token(args.auth_token_file),
        max_request_bytes=args.max_request_bytes,
    )


def cmd_serve(args, config) -> int:
    from serving import core, model_config, server

    try:
        options = server_options(args, config)
    except (ValueError, OSError, model_config.ModelConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if options.host not in ("127.0.0.1", "localhost", "::1") and options.auth_token is None:
        logging.warning(
            "Binding %s without --auth_token_file: anyone who can reach it can query", options.host
        )
    for model in options.core.models:
        print(f"Model '{model.name}' from {model.base_path}", flush=True)

    def ready(running) -> None:
        print(f"Serving at {running.url}/v1/models/<name> (Ctrl-C stops)", flush=True)

    try:
        server.run(server.serve_forever(options, on_ready=ready))
    except KeyboardInterrupt:
        pass
    except core.VersionLabelError as error:
        print(f"error: Failed to start server. Error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as error:
        print(f"error: cannot listen on {options.host}:{options.rest_api_port}: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_predict(args, config) -> int:
    from serving import client

    try:
        rest = client.RestClient(
            args.url, args.model_name or config.serving.model_name, _read_token(args.auth_token_file)
        )
        predictions = rest.predict_texts(args.texts)
    except (client.ServingError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    pairs = list(zip(args.texts, predictions, strict=True))
    if args.json:
        rows = [{"text": t, "top_class": p.top_class, "scores": p.scores} for t, p in pairs]
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    for text, prediction in pairs:
        shown = text if len(text) <= 60 else text[:57] + "..."
        top = prediction.top_class
        print(f"{top}  {prediction.scores[top]:.4f}  {shown}")
    return EXIT_OK


def _local_version(config, version: str) -> str:
    """The version directory `--model VERSION` names under the workspace's serving dir."""
    from serving import model_dir

    base = config.serving_dir
    if version == "latest":
        number = model_dir.latest_version(base)
        if number is None:
            raise ValueError(f"no pushed version in {base}; run `polarity run` first")
    else:
        try:
            number = int(version)
        except ValueError:
            raise ValueError(f"--model takes a version number or 'latest', got {version!r}") from None
        if number not in model_dir.list_versions(base):
            raise ValueError(f"no version {number} in {base}; pushed: {model_dir.list_versions(base)}")
    return model_dir.version_path(base, number)


def _explanations(args, config) -> list:
    from serving import client, explanations

    if args.model is not None:
        return explanations.explain_locally(_local_version(config, args.model), args.texts)
    rest = client.RestClient(
        args.url or client.DEFAULT_REST_URL,
        args.model_name or config.serving.model_name,
        _read_token(args.auth_token_file),
    )
    return rest.explain_texts(args.texts)


def cmd_explain(args, config) -> int:
    from serving import client, explain_view, servable

    try:
        explained = _explanations(args, config)
        classes = [explain_view.class_to_explain(e, args.class_name) for e in explained]
    except (client.ServingError, servable.LoadError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    items = list(zip(args.texts, explained, classes, strict=True))
    if args.html is not None:
        args.html.write_text(explain_view.html_page(items), encoding="utf-8")
    if args.json:
        print(json.dumps(explain_view.json_rows(args.texts, explained), indent=2, ensure_ascii=False))
        return EXIT_OK
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    print("\n\n".join(explain_view.terminal_report(*item, colour=colour) for item in items))
    if args.html is not None:
        print(f"\nwrote {args.html}")
    return EXIT_OK
