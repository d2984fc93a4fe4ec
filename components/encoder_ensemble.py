"""Several fine-tuned encoders exported as one model: a deep ensemble.

Each member is a model of components/encoder_model.py, fine-tuned with its own head and
data order. The ensemble's class probabilities are the renormalised geometric mean of
theirs, softmax(mean of their log-probabilities), which is the softmax of their mean
logits: a text's log-odds are the mean of the members' log-odds (Lakshminarayanan et al.,
"Simple and scalable predictive uncertainty estimation using deep ensembles", NeurIPS
2017, average the members' outputs). So integrated gradients of the ensemble are the mean
of the members' attributions, base values and log-odds (components/encoder_explain.py).

Unlike a model soup (components/weight_averaging.py), nothing is averaged in weight space:
members need not share a basin, and serving costs one encoder call per member.
"""

import keras

from components.encoder_model import log_probabilities


class EncoderEnsemble(keras.Model):
    """Takes the members' inputs (`encoder_model.MODEL_INPUT_KEYS`); returns [batch, classes]
    probabilities, softmax(mean over members of log p)."""

    def __init__(self, members: list[keras.Model], **kwargs):
        if len(members) < 2:
            raise ValueError(f"an ensemble needs two or more members, got {len(members)}")
        super().__init__(name=kwargs.pop("name", "encoder_ensemble"), **kwargs)
        self.members = list(members)

    def call(self, inputs, training=False):
        logs = [log_probabilities(member(inputs, training=training)) for member in self.members]
        return keras.ops.softmax(keras.ops.mean(keras.ops.stack(logs), axis=0), axis=-1)


def members(model: keras.Model) -> list[keras.Model]:
    """The models a (possibly ensembled) encoder model is made of: its members, or itself."""
    return list(model.members) if isinstance(model, EncoderEnsemble) else [model]
