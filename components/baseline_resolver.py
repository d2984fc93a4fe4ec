"""The baseline a candidate model is judged against: the last blessed model other than itself.

TFX's LatestBlessedModelStrategy returns the newest blessed model. When a run
brings no new data, the Trainer's cached output is the model the previous run
blessed and pushed, so the candidate would be compared with itself: a new
baseline for the Evaluators, whose caches then miss, and a full re-evaluation
that can only conclude "no regression". Leaving the candidate out keeps the
baseline of the run that judged it, so the Evaluators, the BlessingGate and the
Pusher are all cached, and a new candidate is still compared with the newest
blessed model. A model an operator rolled back is never a baseline: the next
candidate is judged against the model the rollback returned to, or an older one.
"""

from tfx import v1 as tfx
from tfx.components.evaluator import constants

from components.blessing_gate import ROLLED_BACK_KEY

# Input and output keys of the resolver.
MODEL_KEY = "model"
BLESSING_KEY = "model_blessing"
CANDIDATE_KEY = "candidate"


class PreviousBlessedModelStrategy(tfx.dsl.experimental.ResolverStrategy):
    """Resolves the newest blessed model that is not this run's candidate nor rolled back.

    Inputs: `model` (all Model artifacts), `model_blessing` (the blessings that
    count) and `candidate` (this run's Trainer output). Outputs `model` and
    `model_blessing`: one each, or none when no other model was ever blessed;
    `candidate` passes through (TFX wants every input key back).
    """

    def resolve_artifacts(self, store, input_dict):
        del store  # everything needed is in the inputs
        candidates = input_dict[CANDIDATE_KEY]
        candidate_ids = {artifact.id for artifact in candidates}
        blessings = {
            blessing.get_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY): blessing
            for blessing in input_dict[BLESSING_KEY]
            if blessing.get_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY)
            == constants.BLESSED_VALUE
        }
        for model in sorted(input_dict[MODEL_KEY], key=lambda artifact: artifact.id, reverse=True):
            rolled_back = model.get_string_custom_property(ROLLED_BACK_KEY)
            if model.id in blessings and model.id not in candidate_ids and not rolled_back:
                return {MODEL_KEY: [model], BLESSING_KEY: [blessings[model.id]], CANDIDATE_KEY: candidates}
        return {MODEL_KEY: [], BLESSING_KEY: [], CANDIDATE_KEY: candidates}
