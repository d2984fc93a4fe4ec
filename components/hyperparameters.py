"""Trainer hyperparameters and their defaults (no TensorFlow import, so config can use it)."""

import dataclasses

MODEL_FAMILIES = ("ngrams", "encoder")
# The wide part's starts (components/wide_part.py; kept here, where config can read them).
WIDE_STARTS = ("naive_bayes", "logistic")
# How the encoder's softmax head starts: random, or fitted on the frozen encoder first
# (LP-FT, components/linear_probe.py).
HEAD_STARTS = ("random", "linear_probe")


@dataclasses.dataclass(frozen=True)
class EncoderHyperparameters:
    """How the pretrained encoder (components/encoder_model.py) is fine-tuned.

    Attributes:
      sequence_length: word pieces per text, [CLS] and [SEP] included; longer texts
        are truncated.
      batch_size: texts per step, over all replicas.
      learning_rate: peak AdamW learning rate, reached after the warm-up.
      warmup_fraction: share of the training steps spent warming up linearly from
        zero; the rest decays linearly to zero.
      weight_decay: AdamW's decoupled weight decay.
      epochs: passes over the training split (early stopping may end sooner).
      early_stopping_patience: epochs without a better eval loss before stopping.
      cpu_sample_size: without a GPU, the Trainer fine-tunes on this many training
        texts (and evaluates on at most as many), so the path runs in minutes; each
        fine-tune draws its own from the front of the shuffled split and keeps it for all
        its epochs, reshuffled each epoch (encoder_training.sample_for).
      head: how the softmax head starts: "random" (small weights), or "linear_probe",
        a logistic regression on the frozen encoder's features, before fine-tuning
        moves it and the encoder (LP-FT, components/linear_probe.py).
      with_ngrams: train the n-gram model beside the encoder and export both as one
        model, the n-grams scoring the share of each text beyond the encoder's window
        (components/combined_export.py); off, the encoder alone.
      fine_tuned_share: the exported encoder's weights are this share of the fine-tuned
        weights and the rest of the weights fine-tuning started from (WiSE-FT,
        components/weight_averaging.py); 1 keeps the fine-tuned weights. Below 1 it needs
        head "linear_probe", so that the start it averages with is a fitted model.
      freeze_token_embeddings: keep the pretrained word-piece embeddings as they are
        while the rest fine-tunes (components/encoder_model.py).
      frozen_layers: keep the pretrained embeddings and this many lower Transformer
        layers fixed while the layers above fine-tune; 0 fine-tunes them all.
      layer_decay: layer-wise learning-rate decay: the top Transformer layer fine-tunes at
        this multiple of the head's rate, each layer below at this multiple of the one
        above, the embeddings last (components/encoder_model.py); 1: one rate for all.
      soup_size: fine-tunes, each from the pretrained encoder with its own head and data
        order, whose weights are averaged into the exported encoder (a uniform model
        soup, components/weight_averaging.py); 1: one fine-tune. Costs that many times
        the training.
      ensemble_size: fine-tunes (each a soup of `soup_size`), each with its own head and
        data order, all exported: the model's class probabilities are the renormalised
        geometric mean of theirs (a deep ensemble, components/encoder_ensemble.py); 1: one.
        Costs that many times the training, and the encoder's serving and explanation time.
      mask_handles_and_links: replace user handles and links by "@user" and "http" before
        tokenising, in training and in the exported model, as TweetEval's models read
        tweets (components/social_text.py).
      weigh_by_read_share: weigh each training text's loss by the share of its word
        pieces the encoder reads, the weight the combined model gives the encoder's score
        of it; needs with_ngrams (components/encoder_training.py).
    """

    sequence_length: int = 256
    batch_size: int = 32
    learning_rate: float = 5e-5
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    epochs: int = 2
    early_stopping_patience: int = 1
    cpu_sample_size: int = 512
    head: str = "random"
    with_ngrams: bool = True
    fine_tuned_share: float = 1.0
    freeze_token_embeddings: bool = False
    frozen_layers: int = 0
    layer_decay: float = 1.0
    soup_size: int = 1
    ensemble_size: int = 1
    weigh_by_read_share: bool = False
    mask_handles_and_links: bool = True

    def __post_init__(self):
        if self.head not in HEAD_STARTS:
            raise ValueError(f"training.encoder.head: {self.head!r} is not one of {list(HEAD_STARTS)}")
        if not 0.0 <= self.fine_tuned_share <= 1.0:
            raise ValueError(f"training.encoder.fine_tuned_share: {self.fine_tuned_share} is not in [0, 1]")
        if not 0.0 < self.layer_decay <= 1.0:
            raise ValueError(f"training.encoder.layer_decay: {self.layer_decay} is not in (0, 1]")
        if self.fine_tuned_share < 1.0 and self.head != "linear_probe":
            raise ValueError(
                f"training.encoder.fine_tuned_share={self.fine_tuned_share} averages the fine-tuned "
                f"weights with the starting ones, but head={self.head!r} starts from a random head: "
                "set training.encoder.head=linear_probe (or fine_tuned_share=1)"
            )

        if self.weigh_by_read_share and not self.with_ngrams:
            raise ValueError(
                "training.encoder.weigh_by_read_share weighs each text by the encoder's share of it in "
                "the combined model, but with_ngrams is off (the encoder scores every text alone): "
                "set training.encoder.with_ngrams=true (or weigh_by_read_share=false)"
            )

    @classmethod
    def from_config(cls, config: dict | None) -> "EncoderHyperparameters":
        return cls(**_known(cls, config, "training.encoder"))


@dataclasses.dataclass(frozen=True)
class Hyperparameters:
    """What the pipeline configuration passes to the trainer (Trainer custom_config).

    `model` picks the family: "ngrams" (components/model.py, the CPU default) or
    "encoder" (a pretrained Transformer, components/encoder_model.py, TFX 1.21 stack),
    whose settings are in `encoder`; the others are the n-gram model's.
    """

    model: str = "ngrams"
    epochs: int = 4
    batch_size: int = 64
    learning_rate: float = 3e-3
    embedding_dim: int = 16
    dropout: float = 0.5
    early_stopping_patience: int = 1
    # Momentum of the exponential moving average of the weights (Polyak averaging):
    # validation, early stopping and the exported model use the average. None: off.
    ema_momentum: float | None = 0.99
    max_train_steps: int | None = None
    # How the wide part starts (components/wide_part.py): "naive_bayes" ratios, trained
    # with the rest, or a "logistic" regression on idf-weighted n-grams, fitted to
    # convergence and kept; its inverse L2 strength is the best of `wide_strengths` on
    # the eval split.
    wide: str = "naive_bayes"
    wide_strengths: tuple[float, ...] = (1.0, 3.0, 10.0)
    # Seeds the Trainer (`training.seed_training`): the order the training split is read
    # in and, on the CPU, the encoder's sample of it; initial weights; dropout. The same
    # data, settings and seed train the same model on the same CPU. None: a fresh
    # draw each run (repeated runs differ as much as the seed makes them).
    seed: int | None = None
    encoder: EncoderHyperparameters = EncoderHyperparameters()

    def __post_init__(self):
        if self.model not in MODEL_FAMILIES:
            raise ValueError(f"training.model: {self.model!r} is not one of {list(MODEL_FAMILIES)}")
        if self.wide not in WIDE_STARTS:
            raise ValueError(f"training.wide: {self.wide!r} is not one of {list(WIDE_STARTS)}")
        object.__setattr__(self, "wide_strengths", tuple(float(c) for c in self.wide_strengths))
        if not self.wide_strengths or min(self.wide_strengths) <= 0:
            raise ValueError(
                f"training.wide_strengths: give positive values, got {list(self.wide_strengths)}"
            )
        if self.seed is not None and not 0 <= self.seed < 2**32:
            raise ValueError(f"training.seed: {self.seed} is not in [0, 2**32)")
        if isinstance(self.encoder, dict):
            object.__setattr__(self, "encoder", EncoderHyperparameters.from_config(self.encoder))

    @classmethod
    def from_config(cls, config: dict | None) -> "Hyperparameters":
        """Builds from a plain dict, rejecting names this trainer does not know."""
        return cls(**_known(cls, config, "training"))


def _known(cls, config: dict | None, section: str) -> dict:
    config = dict(config or {})
    known = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"Unknown trainer hyperparameters {unknown} in {section}; known: {sorted(known)}")
    return config
