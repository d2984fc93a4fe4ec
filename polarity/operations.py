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
        # A rollback does not recover a killed run: its lock record stays, and status
        # still reports that run interrupted.
        with lock.workspace_lock(config.workspace):
            entry = rollback.rollback(config.serving_dir, to=args.to)
            print(
                f"Serving version {entry['version']} (rollback of {entry['rollback_of']}; "
                f"version {entry['replaced']} served before) from {config.serving_dir}"
            )
            print(_record_in_metadata(config, entry))
    except (lock.WorkspaceBusyError, rollback.RollbackError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _record_in_metadata(config: Config, entry: dict) -> str:
    """Marks the model taken out of service as rolled back in ML Metadata, and clears the mark
    of the model served again; says what it did.

    A marked model is never a baseline and never blessed again (components/blessing_gate.py),
    so the next run is judged against the model served now and cannot push the other back.
    """
    from components.features import ROLLED_BACK_KEY
    from polarity import lineage, metadata, rollback

    try:
        store = metadata.open_store(config.metadata_path)
    except FileNotFoundError:
        return f"No ML Metadata at {config.metadata_path}: no model to mark as rolled back."
    copies = rollback.rolled_back_from(config.serving_dir)
    replaced = rollback.origin(entry["replaced"], copies)
    withdrawn = lineage.model_of_version(store, replaced)
    restored = lineage.model_of_version(store, entry["rollback_of"])
    if restored is not None and ROLLED_BACK_KEY in restored.custom_properties:
        del restored.custom_properties[ROLLED_BACK_KEY]
        store.put_artifacts([restored])
    if withdrawn is None:
        return (
            f"Version {replaced} was not pushed by a run recorded in {config.metadata_path}: "
            "no model marked as rolled back."
        )
    withdrawn.custom_properties[ROLLED_BACK_KEY].string_value = entry["time"]
    store.put_artifacts([withdrawn])
    return (
        f"Model {withdrawn.id} (pushed as version {replaced}) is marked rolled back in ML Metadata: "
        "later runs neither compare against it nor push it again."
    )


def cmd_lineage(args, config: Config) -> int:
    from polarity import lineage, metadata

    try:
        store = metadata.open_store(config.metadata_path)
        found = lineage.model_lineage(store, config.serving_dir, args.version, classes=config.data.classes)
    except (FileNotFoundError, lineage.LineageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    from polarity import card_location

    found["model_card"] = card_location.find_card(config.serving_dir, found["pushed_version"])
    print(json.dumps(found, indent=2) if args.json else lineage.render_lineage(found), end="\n")
    return EXIT_OK
