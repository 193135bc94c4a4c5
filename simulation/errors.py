"""The one error type for bad input: it always names the file, the key (or row and column),
what was expected and what was found, so an analyst can fix a hand-edited file without
reading a traceback."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """A scenario, network or sweep file that cannot be used as it is."""

    def __init__(self, file: str | Path | None, key: str, expected: str, got: object = None):
        self.file = str(file) if file is not None else "<built in code>"
        self.key = key
        self.expected = expected
        self.got = got
        got_text = "" if got is None else f", got {_short(got)}"
        super().__init__(f"{self.file}: {key}: expected {expected}{got_text}")


class RunWriteError(OSError):
    """A run folder could not be written (disk full, permission denied, ...); nothing
    half-written is left behind."""


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
