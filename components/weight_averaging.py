"""WiSE-FT: the fine-tuned encoder's weights averaged with the weights it started from.

Fine-tuning moves a pretrained encoder towards its training domain and away from what it
knew elsewhere. Averaging, weight by weight, the fine-tuned model with the model it started
from (the pretrained encoder under the head LP-FT fitted on it) keeps much of both: in
Wortsman et al., "Robust fine-tuning of zero-shot models" (CVPR 2022), the average scores
better out of domain than either end at little cost in domain, with no extra training and
no extra cost at serving. `training.encoder.fine_tuned_share` (1 = the fine-tuned weights
as they are) sets the average; benchmarks/weight_averaging_probe.py measures it. Measured
here (benchmarks/results/encoder-wise-ft-lpft.json) it found no such bump: every set moved
almost monotonically from the linear probe to the fine-tuned model, because the frozen
sentence features are weaker than the fine-tuned ones out of domain too. So 1 is the default.

`uniform_soup` averages several fine-tunes of one model instead (Wortsman et al., "Model
soups", ICML 2022): `training.encoder.soup_size` (components/encoder_training.py).
"""

from collections.abc import Sequence

import keras
import numpy as np


def check_share(share: float) -> None:
    """Raises ValueError unless the fine-tuned share lies in [0, 1]."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"the fine-tuned share of the averaged weights must lie in [0, 1], got {share}")


def averaged(start: Sequence[np.ndarray], fine_tuned: Sequence[np.ndarray], share: float) -> list[np.ndarray]:
    """share * fine_tuned + (1 - share) * start, weight by weight.

    Raises:
      ValueError: share is outside [0, 1], or the two lists do not hold the same shapes.
    """
    check_share(share)
    return _weighted_sum([start, fine_tuned], [1.0 - share, share], "the starting and fine-tuned weights")


def uniform_soup(runs: Sequence[Sequence[np.ndarray]]) -> list[np.ndarray]:
    """Each weight averaged over the runs (fine-tunes of one model), in each weight's dtype.

    Raises:
      ValueError: no runs, or runs whose weights differ in number or shape.
    """
    if not runs:
        raise ValueError("a soup needs at least one fine-tuned model")
    return _weighted_sum(runs, [1.0 / len(runs)] * len(runs), "the fine-tuned weights")


def _weighted_sum(
    models: Sequence[Sequence[np.ndarray]], coefficients: Sequence[float], named: str
) -> list[np.ndarray]:
    """sum of coefficient * model, weight by weight, in float64, then in the last model's dtypes.

    Raises:
      ValueError: the models' weights differ in number or shape (`named` says which).
    """
    if len({tuple(np.shape(weight) for weight in model) for model in models}) != 1:
        raise ValueError(f"{named} differ in number or shape; they are not one model")
    return [
        sum(
            coefficient * np.asarray(weight, np.float64)
            for coefficient, weight in zip(coefficients, weights, strict=True)
        ).astype(np.asarray(weights[-1]).dtype)
        for weights in zip(*models, strict=True)
    ]


class WeightAveraging(keras.callbacks.Callback):
    """Keeps the model's weights at the start of `fit`; at its end, replaces the weights by
    their average with them (`share` of the fine-tuned ones).

    Put it after EarlyStopping in the callback list, so that it averages the restored best
    weights. With share 1 it only keeps the starting weights (`start_weights`).
    """

    def __init__(self, share: float = 1.0):
        super().__init__()
        check_share(share)  # before a long fit, not after it
        self.share = share
        self.start_weights: list[np.ndarray] | None = None

    def on_train_begin(self, logs=None):
        self.start_weights = [np.array(weight) for weight in self.model.get_weights()]

    def on_train_end(self, logs=None):
        if self.share < 1.0:
            self.model.set_weights(averaged(self.start_weights, self.model.get_weights(), self.share))
