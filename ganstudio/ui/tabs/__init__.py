"""One module per tab: layout and event wiring only, no torch math."""
