"""The TFMA EvalConfig: metrics, slices and the blessing thresholds, for any number of classes."""

import json

from tensorflow_model_analysis.proto import config_pb2

from components import class_metrics, features
from components.contract import DatasetContract

# The metrics blessing may judge (config `evaluation.metric`), as TFMA names them.
BLESSING_METRICS = (class_metrics.ACCURACY, class_metrics.MACRO_F1)

# Per-class plots for the run report (polarity/html_report.py): each class against the
# rest. Few buckets and thresholds keep the Evaluator's output small; a reliability
# diagram reads best with ten bins, ROC and precision-recall curves with a hundred points.
CALIBRATION_BUCKETS = 10
CURVE_THRESHOLDS = 100


def span_slicing_specs(contract: DatasetContract) -> list:
    """Overall, by each slice column, and by text-length bucket."""
    return [
        config_pb2.SlicingSpec(),
        *(config_pb2.SlicingSpec(feature_keys=[column]) for column in contract.slice_columns),
        config_pb2.SlicingSpec(feature_keys=[features.LENGTH_BUCKET_KEY]),
    ]


def golden_slicing_specs(contract: DatasetContract) -> list:
    """Overall and by each slice column: the golden set is small, so no length buckets."""
    return [
        config_pb2.SlicingSpec(),
        *(config_pb2.SlicingSpec(feature_keys=[column]) for column in contract.slice_columns),
    ]


def _metric(class_name: str, num_classes: int, threshold=None) -> config_pb2.MetricConfig:
    config = config_pb2.MetricConfig(
        class_name=class_name, module=class_metrics.MODULE, config=json.dumps({"num_classes": num_classes})
    )
    if threshold is not None:
        config.per_slice_thresholds.append(
            config_pb2.PerSliceMetricThreshold(slicing_specs=[config_pb2.SlicingSpec()], threshold=threshold)
        )
    return config


def per_class_plots_spec(num_classes: int) -> config_pb2.MetricsSpec:
    """Calibration and confusion-matrix-at-thresholds plots (ROC, precision-recall), one
    class against the rest for each class. They carry no thresholds: blessing ignores them."""
    return config_pb2.MetricsSpec(
        binarize=config_pb2.BinarizationOptions(class_ids={"values": list(range(num_classes))}),
        metrics=[
            config_pb2.MetricConfig(
                class_name="CalibrationPlot", config=json.dumps({"num_buckets": CALIBRATION_BUCKETS})
            ),
            config_pb2.MetricConfig(
                class_name="ConfusionMatrixPlot", config=json.dumps({"num_thresholds": CURVE_THRESHOLDS})
            ),
        ],
    )


def build_eval_config(
    contract: DatasetContract,
    metric: str,
    floor: float,
    max_drop: float,
    slicing_specs: list | None = None,
) -> config_pb2.EvalConfig:
    """Metrics per slice; a model is blessed when its overall `metric` reaches `floor`
    and is at most `max_drop` below the baseline's.

    Args:
      contract: the dataset contract (number of classes, slice columns).
      metric: the metric blessing judges, one of BLESSING_METRICS.
      floor: absolute lower bound on the overall metric.
      max_drop: tolerated regression against the last blessed model (ignored when
        there is none yet).
      slicing_specs: the slices to report; `span_slicing_specs(contract)` by default.
    """
    if metric not in BLESSING_METRICS:
        raise ValueError(f"evaluation.metric: {metric!r} is not one of {BLESSING_METRICS}")
    threshold = config_pb2.MetricThreshold(
        value_threshold=config_pb2.GenericValueThreshold(lower_bound={"value": floor}),
        change_threshold=config_pb2.GenericChangeThreshold(
            direction=config_pb2.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -max_drop}
        ),
    )
    judged = {class_metrics.ACCURACY: "Accuracy", class_metrics.MACRO_F1: "MacroF1"}[metric]
    num_classes = contract.num_classes
    return config_pb2.EvalConfig(
        model_specs=[
            config_pb2.ModelSpec(
                signature_name=features.SERVING_SIGNATURE,
                label_key=features.CLASS_ID_KEY,
                prediction_key=features.SCORES_KEY,
                preprocessing_function_names=[features.TRANSFORM_SIGNATURE],
            )
        ],
        slicing_specs=slicing_specs if slicing_specs is not None else span_slicing_specs(contract),
        metrics_specs=[
            config_pb2.MetricsSpec(
                metrics=[
                    config_pb2.MetricConfig(class_name="ExampleCount"),
                    *(
                        _metric(name, num_classes, threshold if name == judged else None)
                        for name in ("Accuracy", "MacroF1", "ClassPrecision", "ClassRecall")
                    ),
                    config_pb2.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
                ]
            ),
            per_class_plots_spec(num_classes),
        ],
    )
