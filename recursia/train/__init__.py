"""Training: losses, optimizers, EMA, checkpoints and the deep-supervision loop."""
