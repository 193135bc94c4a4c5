"""Replacing files and folders whole: a reader (or a process killed halfway) sees either the old
content or the new, never part of one. Every result the package writes goes through here."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to; when the block ends without error it replaces
    `path` in one rename, otherwise it is removed and `path` is left as it was."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> None:
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def swap_in(staging: Path, target: Path, aside: Path) -> None:
    """Put the finished folder `staging` at `target`; an existing target is renamed `aside` first
    and removed after, so `target` is at every moment either the old whole or the new whole."""
    if target.exists():
        target.rename(aside)
        staging.rename(target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        staging.rename(target)
