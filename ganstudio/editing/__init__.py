"""Editing core: recipes, latent directions, edits and inversion (plain torch, no UI)."""

# Where the samples that a classifier labels for directions start: apart from the seeds people
# browse (0..) and those `ganstudio eval` draws (1,000,000..). Here rather than in codes.py so
# that the CLI's help can name it without importing torch.
SAMPLES_FIRST_SEED = 2_000_000
