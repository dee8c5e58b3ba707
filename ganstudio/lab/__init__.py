"""The research lab: small GAN experiments you can watch, headless first.

`toy` trains a 2-D GAN (ring, grid, moons, spiral or your points) with any objective in
LOSSES through the same trainer and `toy` recipe as `ganstudio train toy`, and reports mode
coverage and the high-quality rate as it goes; `render` draws it (samples, D's heat map, the
gradient each sample receives). The Playground tab is a thin layer over these.
"""
