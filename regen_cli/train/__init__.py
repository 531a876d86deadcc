"""Training: config, data, targets, the loop, checkpoints and the distributed set-up."""
