"""The base of every error whose message is meant for the user (bad file, bad field, bad request).

The UI turns these into short messages and the CLI into one-line errors; anything else
is a bug and keeps its traceback.
"""


class UserError(ValueError):
    """A problem with the user's input; the message names the file or field and what is wrong."""


class CliError(Exception):
    """A user-facing failure of a command-line call: printed as one line, exit status 2.

    Here rather than in the CLI so that the modules the commands share raise it without
    importing the command line back."""


class StudioError(UserError):
    """A request the studio cannot serve; the message is meant for the user.

    Here rather than in studio.py because the catalogue below it raises it too (an unknown
    model, an unreadable file), and callers catch one class for both."""
