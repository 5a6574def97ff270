"""Errors that are the user's to fix (bad input, bad config, missing file).

The CLI prints these as one line, without a traceback; anything else is a bug and keeps its
traceback.
"""


class VisionError(Exception):
    """An expected failure with a message that names the problem and the bad value."""


class StoreRefusedError(VisionError):
    """The database answered and refused: wrong password, unknown database or role, no access.

    Waiting does not fix it, so a command that opens the store exits at once with the reason
    instead of retrying it like an unreachable server.
    """
