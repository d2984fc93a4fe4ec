"""How the model's wide part (one weight per n-gram) starts: naive-Bayes ratios or a logistic fit.

Both read the training split once as a sparse matrix of n-gram occurrence counts.
`naive_bayes` (NBSVM) sets the weights from log-count ratios and lets the trainer
move them with the deep part; `logistic` weighs each n-gram by its inverse document
frequency, fits a regularised logistic regression (scikit-learn) to convergence,
picks its strength on the eval split, and keeps it fixed while the deep part learns
what is left. Tweets and other short texts gain from the second; long reviews from
the first (benchmarks/ngram_probe.py measures both).
"""

import dataclasses
import logging

import numpy as np
from scipy import sparse

from components import features
from components.hyperparameters import WIDE_STARTS

# Laplace smoothing of the naive-Bayes n-gram counts (NBSVM's alpha).
NB_SMOOTHING = 1.0


@dataclasses.dataclass(frozen=True)
class WideStart:
    """The wide part's starting point, as components/model.py takes it.

    Attributes:
      weights: [vocab_size, classes - 1], against class 0 (the reference class).
      idf: [vocab_size] weight of each n-gram in the pooling; None: 1 each.
      bias: [classes - 1] starting logits (the model's bias); None: Keras' zeros.
      trainable: whether training may move the weights.
    """

    weights: np.ndarray
    idf: np.ndarray | None = None
    bias: np.ndarray | None = None
    trainable: bool = True


def ngram_counts(dataset, vocab_size: int) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Occurrence counts of each n-gram id in each text, [texts, vocab_size], and the class ids.

    Args:
      dataset: (model inputs, class id) batches, ids shifted by one and 0 padding.
      vocab_size: number of n-gram ids, out-of-vocabulary buckets included.
    """
    blocks, labels = [], []
    for inputs, batch_labels in dataset.as_numpy_iterator():
        ids = inputs[features.NGRAM_IDS_KEY]
        rows = np.broadcast_to(np.arange(len(ids))[:, None], ids.shape)
        kept = ids > 0
        blocks.append(
            sparse.csr_matrix(
                (np.ones(kept.sum()), (rows[kept], ids[kept] - 1)), shape=(len(ids), vocab_size)
            )
        )
        labels.append(batch_labels.ravel())
    if not blocks:
        return sparse.csr_matrix((0, vocab_size)), np.zeros(0, np.int64)
    counts = sparse.vstack(blocks).tocsr()
    counts.sum_duplicates()
    return counts, np.concatenate(labels).astype(np.int64)


def nb_log_count_ratios(counts: sparse.csr_matrix, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """NBSVM's naive-Bayes log-count ratios of each n-gram id.

    Returns:
      [vocab_size, num_classes - 1]: for each class c > 0, the log ratio of how
      often each n-gram occurs (counted once per text) in class c versus class 0,
      the reference class whose logit the model fixes at 0. With two classes this
      is NBSVM's ratio: positive means the second class.
    """
    present = (counts > 0).astype(np.float64)
    per_class = np.stack([np.asarray(present[labels == c].sum(axis=0)).ravel() for c in range(num_classes)])
    smoothed = per_class + NB_SMOOTHING
    log_probabilities = np.log(smoothed / smoothed.sum(axis=1, keepdims=True))
    return (log_probabilities[1:] - log_probabilities[0]).T


def inverse_document_frequency(counts: sparse.csr_matrix) -> np.ndarray:
    """scikit-learn's smoothed idf, ln((1 + texts) / (1 + texts with the n-gram)) + 1, at least 1."""
    documents = np.asarray((counts > 0).sum(axis=0)).ravel()
    return np.log((1 + counts.shape[0]) / (1 + documents)) + 1


def pooled(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """The wide part's input, as components/model.py pools it: each distinct n-gram of a text
    once, weighed by its idf, over the root of the text's summed squared weights."""
    present = (counts > 0).astype(np.float64)
    norms = np.sqrt(np.maximum(np.asarray(present @ (idf**2)).ravel(), 1))
    return sparse.diags(1 / norms) @ present @ sparse.diags(idf)


def fit_logistic(train, evaluation, num_classes: int, strengths: tuple[float, ...]) -> WideStart:
    """A logistic regression on the idf-weighted n-grams, its inverse L2 strength C the best
    of `strengths` by eval log-loss, fixed as the wide part.

    Args:
      train: (counts, class ids) of the training split, from `ngram_counts`.
      evaluation: the same for the eval split.
      num_classes: number of classes.
      strengths: the values of scikit-learn's C to try.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    idf = inverse_document_frequency(train[0])
    x_train, x_eval = pooled(train[0], idf), pooled(evaluation[0], idf)
    best = None
    for strength in strengths:
        fitted = LogisticRegression(C=strength, max_iter=2000).fit(x_train, train[1])
        loss = log_loss(evaluation[1], fitted.predict_proba(x_eval), labels=fitted.classes_)
        logging.info("Wide part: logistic regression C=%g, eval log-loss %.4f", strength, loss)
        if best is None or loss < best[0]:
            best = (loss, fitted)
    fitted = best[1]
    if list(fitted.classes_) != list(range(num_classes)):
        raise ValueError(
            f"the training split holds classes {list(fitted.classes_)} of {num_classes}: every class "
            "needs training examples for the logistic wide part"
        )
    weights, bias = fitted.coef_, fitted.intercept_
    if num_classes > 2:  # softmax logits against class 0, as the model holds them
        weights, bias = weights[1:] - weights[0], bias[1:] - bias[0]
    return WideStart(weights.T.astype(np.float32), idf.astype(np.float32), bias.astype(np.float32), False)


def wide_start(method: str, train, evaluation, num_classes: int, strengths: tuple[float, ...]) -> WideStart:
    """The wide part's start by `method` (one of WIDE_STARTS)."""
    if method == "naive_bayes":
        return WideStart(nb_log_count_ratios(*train, num_classes).astype(np.float32))
    if method == "logistic":
        return fit_logistic(train, evaluation, num_classes, strengths)
    raise ValueError(f"training.wide: {method!r} is not one of {list(WIDE_STARTS)}")
