"""What Transform passes to the encoder model family: the raw text, untouched.

The encoder (components/encoder_model.py) tokenises text itself, with its own word-piece
vocabulary inside the exported graph, so Transform hands it the text column as it is.
No TensorFlow import: `preprocessing_fn` calls `transform_outputs` on the text column.
"""

# The transformed feature holding the raw text (a name no raw column may take).
ENCODER_TEXT_KEY = "encoder_text"


def transform_outputs(text) -> dict:
    """Transform's outputs for the encoder: the text of each row ([batch] strings), as read."""
    return {ENCODER_TEXT_KEY: text}
