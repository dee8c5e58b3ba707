"""The Gradio layer: widgets wired to Studio calls, nothing more."""
