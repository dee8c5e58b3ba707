"""One module per tab: layout and event wiring only, no torch math. Each has the shape of
ui/tab.py, `build(ctx) -> Handoffs`; the app builds them in a loop and connects their hand-offs."""
