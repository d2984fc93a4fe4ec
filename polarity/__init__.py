"""Polarity: continuous training and serving of a text sentiment model on TFX."""
