"""`polarity rollback` and `polarity lineage`: operating the served model."""

import json
import sys

from polarity.config import Config

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(commands, add_common_flags) -> None:
    """Adds `rollback` and `lineage` to the `polarity` sub-commands."""
    rollback = commands.add_parser(
        "rollback", help="Serve an earlier pushed model again (as a new highest version)."
    )
    add_common_flags(rollback)
    rollback.add_argument(
        "--to",
        type=int,
        metavar="VERSION",
        help="Version to serve again (default: the pushed model before the one served).",
    )
    rollback.set_defaults(handler=cmd_rollback)

    lineage = commands.add_parser(
        "lineage", help="Where a served model came from: spans, run, metrics, blessing, baseline."
    )
    add_common_flags(lineage)
    lineage.add_argument("version", nargs="?", type=int, help="Model version (default: the one served now).")
    lineage.add_argument("--json", action="store_true", help="Print JSON.")
    lineage.set_defaults(handler=cmd_lineage)


def cmd_rollback(args, config: Config) -> int:
    from polarity import lock, rollback

    try:
        with lock.workspace_lock(config.workspace):
            entry = rollback.rollback(config.serving_dir, to=args.to)
    except (lock.WorkspaceBusyError, rollback.RollbackError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"Serving version {entry['version']} (rollback of {entry['rollback_of']}; "
        f"version {entry['replaced']} served before) from {config.serving_dir}"
    )
    return EXIT_OK


def cmd_lineage(args, config: Config) -> int:
    from polarity import lineage, metadata

    try:
        store = metadata.open_store(config.metadata_path)
        found = lineage.model_lineage(store, config.serving_dir, args.version)
    except (FileNotFoundError, lineage.LineageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(found, indent=2) if args.json else lineage.render_lineage(found), end="\n")
    return EXIT_OK
