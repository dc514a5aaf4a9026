"""The normalised score scale: where score normalisation puts a trained model's image and pixel thresholds.

Torch-free on purpose: the database defaults, the hosting verdict and the inferencers read it without loading torch.
"""

NORMALISED_THRESHOLD = 0.5
"""After normalisation (`service.engine.normalization`) both validated thresholds sit here, whatever the raw units."""
