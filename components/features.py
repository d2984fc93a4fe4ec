"""Names of the transformed features, model outputs and signatures: one place for each.

The raw columns (text, label, slices) come from the dataset contract
(`components.contract.DatasetContract`), which flows through `custom_config`;
only the names the pipeline itself gives are spelled here.
"""

from components.contract import RESERVED_COLUMNS

# Transformed features (raw columns may not take these names: contract.RESERVED_COLUMNS).
NGRAM_IDS_KEY, LENGTH_BUCKET_KEY, CLASS_ID_KEY = RESERVED_COLUMNS[:3]

# The model's n-gram ids are shifted by one: 0 pads a batch, 1..vocab are n-grams,
# then the out-of-vocabulary buckets.
OOV_BUCKETS = 1
VOCAB_NAME = "ngrams"
# Text length buckets (in tokens) used to slice evaluation: [0,20), [20,100), ...
LENGTH_BUCKET_BOUNDARIES = (20, 100, 300)

# Serving signatures and their tensors, as TensorFlow Serving names them: a classify
# signature takes serialized tf.Examples as `inputs` and answers `classes` (names)
# and `scores` (probabilities), one column per class in the contract's order.
SERVING_SIGNATURE = "serving_default"
PREDICT_TEXT_SIGNATURE = "predict_text"
TRANSFORM_SIGNATURE = "transform_features"
EXAMPLES_INPUT_KEY = "inputs"
TEXT_INPUT_KEY = "text"
TRANSFORM_INPUT_KEY = "examples"
SCORES_KEY = "scores"
CLASSES_KEY = "classes"
CLASSIFY_METHOD = "tensorflow/serving/classify"

# Output keys and custom properties of the pipeline's own components, as ML Metadata holds them
# (no TFX import here, so `polarity status` reads a run without loading TensorFlow).
GOLDEN_EVALUATION_KEY = "golden_evaluation"  # GoldenEvaluator's outputs
GOLDEN_BLESSING_KEY = "golden_blessing"
# A Model artifact's property: when `polarity rollback` took it out of service.
ROLLED_BACK_KEY = "rolled_back_at"
# Key of the BlessingGate's verdict (in its "verdicts") that is False for a rolled-back model.
NOT_ROLLED_BACK_VERDICT = "not_rolled_back"
# The verdict's custom properties holding each evaluation's summary (evaluation_summary.summarize).
SPAN_SUMMARY_KEY = "span_summary"
GOLDEN_SUMMARY_KEY = "golden_summary"


def ngram_ids(vocab_size: int) -> int:
    """Distinct n-gram ids the model embeds (the padding id 0 aside)."""
    return vocab_size + OOV_BUCKETS


def length_bucket_name(bucket: int) -> str:
    """Human label of a length bucket index, e.g. 1 -> '20-99 tokens'."""
    bounds = (0,) + LENGTH_BUCKET_BOUNDARIES
    if bucket >= len(LENGTH_BUCKET_BOUNDARIES):
        return f">={bounds[-1]} tokens"
    return f"{bounds[bucket]}-{bounds[bucket + 1] - 1} tokens"
