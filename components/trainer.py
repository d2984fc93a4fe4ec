"""TFX Trainer entry point: a thin adapter from FnArgs to training and export."""

import tensorflow_transform as tft
from tfx import v1 as tfx

from components import features, signatures, training
from components.contract import DatasetContract
from components.hyperparameters import Hyperparameters
from components.text_features import TextFeatures

MODEL_NAME_KEY = "model_name"
HYPERPARAMETERS_KEY = "hyperparameters"
CONTRACT_KEY = "contract"
TEXT_FEATURES_KEY = "text_features"


def trainer_config(
    hyperparameters: dict, contract: DatasetContract, model_name: str, text_features: TextFeatures
) -> dict:
    """The Trainer `custom_config` that `run_fn` reads.

    The text features are Transform's own (`preprocessing.transform_config`): the
    exported `explain_text` signature needs the n-gram ranges to know which tokens
    each n-gram spans.
    """
    return {
        HYPERPARAMETERS_KEY: hyperparameters,
        CONTRACT_KEY: contract.to_dict(),
        MODEL_NAME_KEY: model_name,
        TEXT_FEATURES_KEY: text_features.to_dict(),
    }


def _text_features(custom_config: dict) -> TextFeatures:
    if TEXT_FEATURES_KEY not in custom_config:
        raise ValueError(
            f"the Trainer's custom_config has no {TEXT_FEATURES_KEY!r} (the n-gram ranges Transform "
            f"used); build it with components.trainer.trainer_config, or add Transform's "
            f"{TEXT_FEATURES_KEY!r} to a trainer_config given at run time"
        )
    return TextFeatures.from_dict(custom_config[TEXT_FEATURES_KEY])


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Checks, trains on the transformed train split and exports the serving model."""
    custom_config = fn_args.custom_config or {}
    hparams = Hyperparameters.from_config(custom_config.get(HYPERPARAMETERS_KEY))
    contract = DatasetContract.from_dict(custom_config[CONTRACT_KEY])
    model_name = custom_config.get(MODEL_NAME_KEY, "model")
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    text_features = _text_features(custom_config)
    training.seed_training(hparams.seed)
    if hparams.model == "encoder":
        _run_encoder(fn_args, hparams, contract, tf_transform_output, model_name, text_features)
        return
    model = _train_ngrams(fn_args, hparams, contract, tf_transform_output)
    signatures.export_model(
        model,
        tf_transform_output,
        fn_args.serving_model_dir,
        contract,
        model_name,
        text_features,
    )


def _train_ngrams(fn_args, hparams: Hyperparameters, contract: DatasetContract, tf_transform_output):
    """The n-gram family: sanity checks, then training (components/training.py)."""
    schema = tf_transform_output.transformed_metadata.schema
    vocab_size = features.ngram_ids(tf_transform_output.vocabulary_size_by_name(features.VOCAB_NAME))

    def dataset(files, shuffle):
        return training.make_dataset(
            files, fn_args.data_accessor, schema, hparams.batch_size, shuffle, hparams.seed
        )

    training.check_before_training(
        dataset(fn_args.train_files, shuffle=True), hparams, vocab_size, contract.num_classes
    )
    return training.train_model(
        dataset(fn_args.train_files, shuffle=True),
        dataset(fn_args.eval_files, shuffle=False),
        hparams,
        log_dir=fn_args.model_run_dir,
        vocab_size=vocab_size,
        num_classes=contract.num_classes,
    )


def _run_encoder(
    fn_args,
    hparams: Hyperparameters,
    contract: DatasetContract,
    tf_transform_output,
    model_name: str,
    text_features: TextFeatures,
):
    """The encoder family: sanity checks, fine-tuning, export (components/encoder_*.py), with
    the n-gram model trained beside it when `training.encoder.with_ngrams` is on."""
    from components import combined_export, encoder_export, encoder_training

    schema = tf_transform_output.transformed_metadata.schema
    settings = hparams.encoder

    def dataset(files, shuffle):
        return encoder_training.make_text_dataset(
            files, fn_args.data_accessor, schema, settings.batch_size, shuffle, hparams.seed
        )

    encoder_training.check_before_training(
        dataset(fn_args.train_files, shuffle=True), settings, contract.num_classes
    )
    ngram_model = (
        _train_ngrams(fn_args, hparams, contract, tf_transform_output) if settings.with_ngrams else None
    )
    model, preprocessor = encoder_training.train_ensemble(
        dataset(fn_args.train_files, shuffle=True),
        dataset(fn_args.eval_files, shuffle=False),
        settings,
        contract.num_classes,
        log_dir=fn_args.model_run_dir,
        max_train_steps=hparams.max_train_steps,
    )
    if ngram_model is None:
        encoder_export.export_encoder(
            model, preprocessor, tf_transform_output, fn_args.serving_model_dir, contract, model_name
        )
        return
    combined_export.export_combined(
        model,
        preprocessor,
        ngram_model,
        tf_transform_output,
        fn_args.serving_model_dir,
        contract,
        model_name,
        text_features,
    )
