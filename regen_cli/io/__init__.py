"""Bytes and files: the `.rgl` container and its latent coding, video through PyAV, frame
conversions, atomic writes, model files and the bundled-model zoo."""
