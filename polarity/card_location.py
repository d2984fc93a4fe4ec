"""Where a pushed version's model card lives: `<serving_dir>.cards/<version>/`.

Next to the serving directory, not inside it, so that TF Serving never takes a card's
folder for a model version. Kept free of TensorFlow, so that `polarity lineage` can
name the card without loading it.
"""

import os

from serving import storage

CARDS_SUFFIX = ".cards"
JSON_FILE, HTML_FILE = "model_card.json", "model_card.html"


def card_dir(serving_dir, version: int) -> str:
    """The folder of a version's card (a path or a URI, as the serving directory is)."""
    return f"{os.fspath(serving_dir).rstrip('/')}{CARDS_SUFFIX}/{version}"


def card_path(serving_dir, version: int, kind: str = "html") -> str:
    """The card file of a version ("html" or "json"); it may not exist (never written)."""
    return f"{card_dir(serving_dir, version)}/{HTML_FILE if kind == 'html' else JSON_FILE}"


def find_card(serving_dir, version: int) -> str | None:
    """The HTML card of a pushed version if one was written, else None. `polarity lineage`
    passes the lineage's "pushed_version": a rollback's copy shares its origin's card."""
    path = card_path(serving_dir, version)
    return path if storage.exists(path) else None
