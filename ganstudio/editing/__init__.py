"""Editing core: recipes, latent directions, edits and inversion (plain torch, no UI)."""
