"""Trainer hyperparameters and their defaults (no TensorFlow import, so config can use it)."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Hyperparameters:
    """What the pipeline configuration passes to the trainer (Trainer custom_config)."""

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

    @classmethod
    def from_config(cls, config: dict | None) -> "Hyperparameters":
        """Builds from a plain dict, rejecting names this trainer does not know."""
        config = dict(config or {})
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"Unknown trainer hyperparameters {unknown}; known: {sorted(known)}")
        return cls(**config)
