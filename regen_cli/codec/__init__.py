"""Tensor-level inference: chunk geometry, tiling, encoding, decoding, frame times, temporal prediction.

Everything here works on tensors and latent sources, never on file names or flags.
"""
