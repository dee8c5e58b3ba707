"""The one shape of a tab: `build(ctx: TabContext) -> Handoffs`, laid out inside its own gr.Tab.

A tab gets what it needs in a TabContext and hands back, in Handoffs, what the other tabs
use: its model pickers (Models and Runs refresh them), where a "Send to …" lands in it (its
Inbox) and its own "Send to …" buttons. The app builds every tab the same way and connects
each Send to the Inbox of the tab it names, so no tab wires the widgets of another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import gradio as gr

from ..catalogue import Catalogue
from ..studio import Studio, StudioError
from .session_history import SessionHistory


class Picker(NamedTuple):
    """A tab's model dropdown and the kind of model it lists (a catalogue kind; None: every model)."""

    dropdown: gr.Dropdown
    kind: str | None


@dataclass(frozen=True)
class TabContext:
    """What a tab is built from; the same for every tab but its page and the pickers before it."""

    studio: Studio
    session: SessionHistory  # what each browser session made (the History tab shows it)
    page: gr.Tab  # the tab's own page, for events on opening it
    runs_dir: Path
    pickers: tuple[Picker, ...] = ()  # the pickers of the tabs built before this one

    @property
    def catalogue(self) -> Catalogue:
        return self.studio.catalogue


@dataclass(frozen=True)
class Inbox:
    """Where a "Send to …" lands: `take(value)` returns the updates of `outputs`. `model_work`:
    taking it renders, so the hand-off waits in the model queue."""

    outputs: list
    take: Callable
    model_work: bool = False


# the pick of a button that sends its picture as it is (no docstring: it would describe the endpoint)
def as_is(picture):
    return picture


def recipe_required(message: str) -> Callable[[dict | None], dict]:
    """The pick of a button that sends a recipe: the recipe, or `message` as the error while there is none."""

    def pick(recipe_dict):
        if not recipe_dict:
            raise StudioError(message)
        return recipe_dict

    return pick


@dataclass(frozen=True)
class Send:
    """A "Send to …" button: on a click, `pick(source value)` is handed to the Inbox of tab `to`.
    `pick` raises a UserError when there is nothing to send yet; its parameter names are the
    endpoint's (`api_name`) for gradio_client."""

    button: gr.Button
    source: gr.components.Component
    to: str
    api_name: str
    pick: Callable = as_is


@dataclass(frozen=True)
class Handoffs:
    """What a tab gives the others; a tab with none of these returns Handoffs()."""

    pickers: tuple[Picker, ...] = ()
    inbox: Inbox | None = None
    sends: tuple[Send, ...] = ()
