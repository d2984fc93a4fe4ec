"""What TFX calls into: the feature contract, preprocessing_fn, the model, run_fn, gates and the Pusher."""
