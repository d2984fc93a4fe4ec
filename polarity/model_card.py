"""A model card per pushed version, as TFX's ModelCardGenerator writes one (the Model Card
Toolkit's sections: model details, training data, quantitative analysis, considerations).

The card is JSON and HTML, kept next to the serving directory but outside it, so that
TF Serving never sees it as a version: `<serving_dir>.cards/<version>/model_card.json`
and `model_card.html` (polarity/card_location.py). It is written from ML Metadata
(polarity/lineage.py) after a push.
"""

import datetime
import json

import tensorflow as tf

from components.hyperparameters import Hyperparameters
from components.text_features import TextFeatures
from polarity import evaluation_views, html_report, lineage, metadata, report
from polarity.card_location import HTML_FILE, JSON_FILE, card_dir

EVALUATED_ON = {"Evaluator": "span eval split", "GoldenEvaluator": "golden set"}
# A slice is weak when its metric trails the overall one by more than this.
WEAK_SLICE_GAP = 0.05


def weak_slices(metrics: dict, metric: str, floor: float | None) -> list[dict]:
    """Slices whose `metric` is below the floor or trails the overall value by more than
    WEAK_SLICE_GAP, weakest first."""
    overall = metrics.get("overall", {}).get(metric)
    weak = []
    for where, values in metrics.items():
        value = values.get(metric)
        if where == "overall" or value is None or overall is None:
            continue
        reasons = []
        if floor is not None and value < floor:
            reasons.append(f"below the floor {floor:.4f}")
        if overall - value > WEAK_SLICE_GAP:
            reasons.append(f"{overall - value:.4f} below overall")
        if reasons:
            weak.append({"slice": where, metric: value, "examples": values.get("examples"), "why": reasons})
    return sorted(weak, key=lambda item: item[metric])


def _training_data(store, found: dict, classes: tuple) -> dict:
    """Spans, rows and class balance of the run that trained the model."""
    runs = {run.name: run for run in metadata.pipeline_runs(store, found["pipeline"])}
    run = runs.get(found["trained_in_run"])
    summary = report.run_summary(store, found["pipeline"], run, classes=classes) if run else {}
    profile = (summary or {}).get("profile") or {}
    return {
        "spans": found["spans"],
        "examples": found["examples"],
        "rows": (summary or {}).get("rows") or {},
        "classes": list(classes),
        "class_balance": profile.get("label_balance", {}),
        "slice_mix": profile.get("slice_mix", {}),
        "golden_metrics": (summary or {}).get("golden_metrics") or {},
    }


def _recorded_thresholds(store, pipeline_name: str, run_name: str | None) -> dict:
    """{evaluator node id: its thresholds} from the EvalConfigs a run's Evaluators ran with."""
    runs = {run.name: run for run in metadata.pipeline_runs(store, pipeline_name)}
    if run_name not in runs:
        return {}
    return {
        node.node_id: evaluation_views.execution_thresholds(store, node.execution_id)
        for node in metadata.run_executions(store, runs[run_name])
        if node.node_id in EVALUATED_ON
    }


def thresholds_passed(store, config, found: dict, golden_metrics: dict) -> list[dict]:
    """Each blessing threshold the version was judged by, with its value (and the baseline's).

    The thresholds are those the run's Evaluators recorded in ML Metadata; the
    configuration's are used only for a run that recorded none.
    """
    metric = config.evaluation.metric
    recorded = _recorded_thresholds(store, config.pipeline_name, found["evaluated_in_run"])
    configured = {
        "Evaluator": [
            {
                "metric": metric,
                "slice": "overall",
                "floor": config.evaluation.floor,
                "max_drop": config.evaluation.max_drop,
            }
        ],
        "GoldenEvaluator": [
            {"metric": metric, "slice": "overall", "floor": config.evaluation.golden_floor, "max_drop": None}
        ],
    }
    metrics = {"Evaluator": found["metrics"], "GoldenEvaluator": golden_metrics}
    baseline = {"Evaluator": (found["baseline"] or {}).get("metrics", {}), "GoldenEvaluator": {}}
    rows = []
    for node_id, on in EVALUATED_ON.items():
        for threshold in recorded.get(node_id) or configured[node_id]:
            where = threshold["slice"]
            rows.append(
                {
                    "on": on,
                    **threshold,
                    "value": metrics[node_id].get(where, {}).get(threshold["metric"]),
                    "baseline": baseline[node_id].get(threshold["metric"]) if where == "overall" else None,
                }
            )
    return rows


def model_description(hparams: Hyperparameters, text: TextFeatures) -> tuple[str, list[str]]:
    """(how the model reads text, its limitations) for the model family that was trained.

    Args:
      hparams: the Trainer's hyperparameters (the run's `training` section).
      text: the n-gram features Transform built (the run's `text` section).
    """
    grams = f"word {text.word_ngrams[0]}-{text.word_ngrams[1]}-grams" + (
        f" and character {text.char_ngrams[0]}-{text.char_ngrams[1]}-grams" if text.char_ngrams else ""
    )
    if hparams.model != "encoder":
        return f"from {grams}", ["Bag of n-grams: negation, sarcasm and long-range context are read weakly."]
    window = hparams.encoder.sequence_length
    read = (
        f"by fine-tuning the pretrained sentence encoder all-MiniLM-L6-v2 on each text's first {window} "
        "word pieces"
    )
    limits = ["The encoder's pretrained weights are English: texts in other languages are read poorly."]
    if hparams.encoder.with_ngrams:
        read += (
            f", with a model of {grams} for what lies beyond them (weighted by the share of the text "
            "the encoder did not read)"
        )
        limits.append(f"Beyond the first {window} word pieces a text is read only as a bag of n-grams.")
    else:
        limits.append(f"Only the first {window} word pieces of a text are read; the rest is ignored.")
    return read, limits


def build_card(config, store, version: int) -> dict:
    """The card of a pushed version as JSON-ready sections.

    Raises:
      lineage.LineageError: the version was not pushed by a recorded run.
    """
    classes = tuple(config.data.classes)
    found = lineage.model_lineage(store, config.serving_dir, version, classes=classes)
    found["pipeline"] = config.pipeline_name
    training = _training_data(store, found, classes)
    metric = config.evaluation.metric
    passed = thresholds_passed(store, config, found, training["golden_metrics"])
    columns = list(config.data.contract().slice_columns)
    # The card is written after the run that pushed the version, with that run's settings.
    reads, model_limits = model_description(
        Hyperparameters.from_config(config.training.model_dump()), config.text.features()
    )
    return {
        "model_details": {
            "name": config.serving.model_name,
            "version": found["version"],
            "pushed_version": found["pushed_version"],
            "pushed_model": found["pushed_model"],
            "pushed_in_run": found["pushed_in_run"],
            "trained_in_run": found["trained_in_run"],
            "model_uri": found["model_uri"],
            "card_written": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "overview": (
                f"A text classifier over {len(classes)} classes ({', '.join(classes)}), trained by the "
                f"Polarity TFX pipeline {config.pipeline_name!r} {reads}, "
                "served by TensorFlow Serving (its answers name the classes and give their scores)."
            ),
        },
        "training_data": training,
        "quantitative_analysis": {
            "metric": metric,
            "eval_split": found["metrics"],
            "baseline": found["baseline"],
            "golden_set": training["golden_metrics"],
            "thresholds_passed": passed,
            "weak_slices": weak_slices(found["metrics"], metric, config.evaluation.floor),
            "weak_golden_slices": weak_slices(
                training["golden_metrics"], metric, config.evaluation.golden_floor
            ),
        },
        "considerations": {
            "intended_use": (
                f"Classify the {', '.join(classes)} of short texts like the training spans' "
                f"(slices by {', '.join(columns) or 'none'}), for monitoring and triage; "
                "each answer comes with class scores."
            ),
            "limitations": [
                "Trained on the spans named above only: texts from other domains, languages or "
                "eras than those spans may be classified worse than the metrics say.",
                *model_limits,
                "Scores are not calibrated probabilities beyond what the reliability diagram of the "
                "run report shows.",
                *(
                    f"Weak slice {item['slice']}: {metric} {item[metric]:.4f} ({'; '.join(item['why'])})"
                    for item in weak_slices(found["metrics"], metric, config.evaluation.floor)
                ),
            ],
        },
    }


def render_card(card: dict) -> str:
    """The card as one self-contained HTML page."""
    return (
        html_report.environment()
        .get_template("model_card.html.j2")
        .render(
            card=card,
            model=card["model_details"],
            data=card["training_data"],
            analysis=card["quantitative_analysis"],
            considerations=card["considerations"],
            tables=_tables(card["quantitative_analysis"], card["training_data"]["classes"]),
            gap=WEAK_SLICE_GAP,
        )
    )


def _tables(analysis: dict, classes: list) -> dict:
    """Per-slice tables of the eval split and the golden set (no baseline columns)."""
    return {
        key: html_report.slice_rows(
            {evaluation_views.CANDIDATE: analysis[key], evaluation_views.BASELINE: {}}, classes
        )
        for key in ("eval_split", "golden_set")
    }


def write_card(config, store, version: int) -> str:
    """Writes a pushed version's card (JSON and HTML) and returns the HTML file's path."""
    card = build_card(config, store, version)
    folder = card_dir(config.serving_dir, version)
    tf.io.gfile.makedirs(folder)
    with tf.io.gfile.GFile(f"{folder}/{JSON_FILE}", "w") as handle:
        handle.write(json.dumps(card, indent=2, sort_keys=True, default=str))
    with tf.io.gfile.GFile(f"{folder}/{HTML_FILE}", "w") as handle:
        handle.write(render_card(card))
    return f"{folder}/{HTML_FILE}"
