"""The toy-GAN trainer: ensembles of GANs in one batched computation."""
