"""TFX Trainer entry point: a thin adapter from FnArgs to training and export."""

import tensorflow_transform as tft
from tfx import v1 as tfx

from components import signatures, training
from components.hyperparameters import Hyperparameters

MODEL_NAME_KEY = "model_name"
HYPERPARAMETERS_KEY = "hyperparameters"


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Trains on the transformed train split and exports the serving model."""
    custom_config = fn_args.custom_config or {}
    hparams = Hyperparameters.from_config(custom_config.get(HYPERPARAMETERS_KEY))
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    schema = tf_transform_output.transformed_metadata.schema

    def dataset(files, shuffle):
        return training.make_dataset(files, fn_args.data_accessor, schema, hparams.batch_size, shuffle)

    model = training.train_model(
        dataset(fn_args.train_files, shuffle=True),
        dataset(fn_args.eval_files, shuffle=False),
        hparams,
        log_dir=fn_args.model_run_dir,
    )
    signatures.export_model(
        model, tf_transform_output, fn_args.serving_model_dir, custom_config.get(MODEL_NAME_KEY, "model")
    )
