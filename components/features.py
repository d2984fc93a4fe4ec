"""The feature contract: the one place that names features and their encodings.

Transform, the trainer, the serving signatures, the evaluator, the schema checks
and the embedded server all import these names; no other module spells them.
"""

TEXT_KEY = "text"
LABEL_KEY = "label"
SOURCE_KEY = "source"

RAW_FEATURE_KEYS = (TEXT_KEY, LABEL_KEY, SOURCE_KEY)

# Known review domains; the schema's `source` domain lists the same values.
KNOWN_SOURCES = ("imdb", "rotten_tomatoes")
LABEL_VALUES = (0, 1)

# Transformed features.
NGRAM_IDS_KEY = "ngram_ids"
LENGTH_BUCKET_KEY = "length_bucket"

# Word n-grams fed to the model: unigrams and bigrams.
NGRAM_RANGE = (1, 2)
# Size of the n-gram vocabulary kept by TFT (most frequent first). The model
# sees ids shifted by one: 0 pads a batch, 1..NGRAM_IDS are n-grams.
VOCAB_SIZE = 100_000
# Out-of-vocabulary n-grams share this many hash buckets.
OOV_BUCKETS = 1
# Distinct n-gram ids the model embeds (the padding id 0 aside).
NGRAM_IDS = VOCAB_SIZE + OOV_BUCKETS
VOCAB_NAME = "ngrams"
# Review length buckets (in words) used to slice evaluation: [0,20), [20,100), ...
LENGTH_BUCKET_BOUNDARIES = (20, 100, 300)

# Model outputs, shared by every serving signature and the evaluator.
PROBABILITY_KEY = "probability"
PREDICTED_LABEL_KEY = "label"
EXAMPLES_INPUT_KEY = "examples"

SERVING_SIGNATURE = "serving_default"
PREDICT_TEXT_SIGNATURE = "predict_text"
TRANSFORM_SIGNATURE = "transform_features"


def length_bucket_name(bucket: int) -> str:
    """Human label of a length bucket index, e.g. 1 -> '20-99 words'."""
    bounds = (0,) + LENGTH_BUCKET_BOUNDARIES
    if bucket >= len(LENGTH_BUCKET_BOUNDARIES):
        return f">={bounds[-1]} words"
    return f"{bounds[bucket]}-{bounds[bucket + 1] - 1} words"
