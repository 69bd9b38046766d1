"""Defuse (seed 004): a VAE trained on the training images, latent perturbations the
classifier gets wrong, their Dirichlet-process mixture regions, a person's label per region,
and a fine-tune on CE(train) + λ·CE(region samples)."""
