"""Unit: the model card says how the trained model family reads text, and what that limits."""

from components.hyperparameters import EncoderHyperparameters, Hyperparameters
from components.text_features import TextFeatures
from polarity.model_card import model_description

TEXT = TextFeatures(word_ngrams=(1, 2), char_ngrams=None, vocab_size=1000)


def test_the_ngram_model_is_described_by_its_ngrams():
    reads, limits = model_description(Hyperparameters(), TextFeatures((1, 3), (2, 4), 1000))
    assert reads == "from word 1-3-grams and character 2-4-grams"
    assert any(limit.startswith("Bag of n-grams") for limit in limits)


def test_the_encoder_is_described_with_its_window_and_the_ngrams_beside_it():
    reads, limits = model_description(
        Hyperparameters(model="encoder", encoder=EncoderHyperparameters(sequence_length=128)), TEXT
    )
    assert "all-MiniLM-L6-v2 on each text's first 128 word pieces" in reads
    assert "with a model of word 1-2-grams for what lies beyond them" in reads
    assert "Beyond the first 128 word pieces a text is read only as a bag of n-grams." in limits
    assert any("English" in limit for limit in limits)
    alone = Hyperparameters(model="encoder", encoder=EncoderHyperparameters(with_ngrams=False))
    reads, limits = model_description(alone, TEXT)
    assert "n-grams" not in reads
    assert "Only the first 256 word pieces of a text are read; the rest is ignored." in limits
