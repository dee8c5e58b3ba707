"""Training: loss terms, recipes and the loop that runs them."""
