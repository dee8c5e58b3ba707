"""ganstudio: GAN latent exploration and photo editing, with the backend that trains its models."""

__version__ = "0.1.0"
