"""The TFMA EvalConfig: metrics, slices and the blessing thresholds."""

import tensorflow_model_analysis as tfma

from components import features

ACCURACY_METRIC = "binary_accuracy"


def span_slicing_specs() -> list:
    """Overall, by review source, and by review-length bucket."""
    return [
        tfma.SlicingSpec(),
        tfma.SlicingSpec(feature_keys=[features.SOURCE_KEY]),
        tfma.SlicingSpec(feature_keys=[features.LENGTH_BUCKET_KEY]),
    ]


def golden_slicing_specs() -> list:
    """Overall and by source: the golden set is small, so no length buckets."""
    return [tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=[features.SOURCE_KEY])]


def build_eval_config(
    accuracy_floor: float, max_accuracy_drop: float, slicing_specs: list | None = None
) -> tfma.EvalConfig:
    """Metrics per slice; a model is blessed when its overall accuracy reaches
    `accuracy_floor` and is at most `max_accuracy_drop` below the baseline's.

    Args:
      accuracy_floor: absolute lower bound on overall BinaryAccuracy.
      max_accuracy_drop: tolerated accuracy regression against the last blessed
        model (ignored when there is none yet).
      slicing_specs: the slices to report; `span_slicing_specs()` by default.
    """
    accuracy_threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": accuracy_floor}),
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER,
            absolute={"value": -max_accuracy_drop},
        ),
    )
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name=features.SERVING_SIGNATURE,
                label_key=features.LABEL_KEY,
                prediction_key=features.PROBABILITY_KEY,
                preprocessing_function_names=[features.TRANSFORM_SIGNATURE],
            )
        ],
        slicing_specs=slicing_specs if slicing_specs is not None else span_slicing_specs(),
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(class_name="ExampleCount"),
                    tfma.MetricConfig(
                        class_name="BinaryAccuracy",
                        per_slice_thresholds=[
                            tfma.PerSliceMetricThreshold(
                                slicing_specs=[tfma.SlicingSpec()], threshold=accuracy_threshold
                            )
                        ],
                    ),
                    tfma.MetricConfig(class_name="AUC"),
                    tfma.MetricConfig(class_name="Precision"),
                    tfma.MetricConfig(class_name="Recall"),
                    tfma.MetricConfig(class_name="Calibration"),
                    tfma.MetricConfig(class_name="MeanLabel"),
                    tfma.MetricConfig(class_name="MeanPrediction"),
                ]
            )
        ],
    )
