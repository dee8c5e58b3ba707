"""Undo/redo over small JSON-able states (slider values), kept in a plain dict for UI sessions."""

from __future__ import annotations

import copy
from typing import Any

MAX_UNDO = 100


def new_history(state: Any) -> dict:
    return {"undo": [], "current": copy.deepcopy(state), "redo": []}


def push(history: dict, state: Any) -> dict:
    """Record a new state (a no-op when nothing changed); clears the redo list."""
    if state == history["current"]:
        return history
    undo = (history["undo"] + [history["current"]])[-MAX_UNDO:]
    return {"undo": undo, "current": copy.deepcopy(state), "redo": []}


def undo(history: dict) -> dict:
    if not history["undo"]:
        return history
    return {"undo": history["undo"][:-1], "current": history["undo"][-1],
            "redo": [history["current"]] + history["redo"]}


def redo(history: dict) -> dict:
    if not history["redo"]:
        return history
    return {"undo": history["undo"] + [history["current"]], "current": history["redo"][0],
            "redo": history["redo"][1:]}
