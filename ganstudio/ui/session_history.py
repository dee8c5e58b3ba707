"""What each browser session made: images with the recipe that reproduces each one.

Kept in the server keyed by Gradio's session hash (not in a gr.State), so any event can
record into it without threading a state through every widget; bounded per session and
in the number of sessions, so strangers on a shared link cannot grow it without limit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from PIL import Image

PER_SESSION = 48
SESSIONS = 32


@dataclass(frozen=True)
class HistoryEntry:
    image: Image.Image
    caption: str
    recipe: dict[str, Any] | None  # a latent recipe (reproducible) or a note of how the image was made


def caption(recipe: dict[str, Any] | None) -> str:
    """A short caption: model, seed (or "inverted"), edits; or the command (mix, translate) that made it."""
    if not recipe:
        return ""
    if "command" in recipe:
        target = f" → {recipe['to']}" if recipe.get("to") else ""
        return f"{recipe['command']} · {recipe.get('model', '?')}{target}"
    source = f"seed {recipe['seed']}" if recipe.get("seed") is not None else "inverted"
    edits = ", ".join(f"{str(e.get('direction', '')).split('/')[-1]} {float(e.get('alpha', 0)):+.2f}"
                      for e in recipe.get("edits") or [])
    return f"{recipe.get('model', '?')} · {source}" + (f" · {edits}" if edits else "")


class SessionHistory:
    def __init__(self, per_session: int = PER_SESSION, sessions: int = SESSIONS):
        self.per_session, self.sessions = per_session, sessions
        self._by_session: OrderedDict[str, list[HistoryEntry]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(request: Any) -> str:
        """The session of a Gradio request (one shared bucket for calls without one)."""
        return getattr(request, "session_hash", None) or "-"

    def add(self, request: Any, image: Image.Image | None, recipe: dict[str, Any] | None) -> None:
        if image is None:
            return
        entry = HistoryEntry(image.copy(), caption(recipe), recipe)
        with self._lock:
            key = self.key(request)
            entries = self._by_session.pop(key, [])
            if not entries or entries[0].recipe != recipe or recipe is None:  # no run of duplicates
                entries.insert(0, entry)
            self._by_session[key] = entries[: self.per_session]
            while len(self._by_session) > self.sessions:
                self._by_session.popitem(last=False)  # the session idle the longest

    def entries(self, request: Any) -> list[HistoryEntry]:
        """Newest first."""
        with self._lock:
            return list(self._by_session.get(self.key(request), []))
