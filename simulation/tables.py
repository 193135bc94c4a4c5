"""Reading the project's small CSV data files strictly: the file must exist, be UTF-8, have
exactly the expected columns, and every row must have every cell. Each problem becomes an
InputError naming the file and the row (rows are numbered as in a spreadsheet: header = 1)."""

from __future__ import annotations

import csv
from pathlib import Path

from .errors import InputError


def is_regular_file(path: Path) -> bool:
    """Path.is_file, where a name the system refuses (too long, ...) is no file either."""
    try:
        return path.is_file()
    except OSError:
        return False


def check_regular_file(path: Path, key: str = "file") -> None:
    try:
        exists = path.exists()
    except OSError as error:
        raise InputError(path, key, "an existing file", error.strerror or str(error)) from None
    if not exists:
        raise InputError(path, key, "an existing file", "no such file")
    if not is_regular_file(path):
        raise InputError(path, key, "a regular file", "a directory or special file")


def read_text(path: Path, key: str = "file") -> str:
    check_regular_file(path, key)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(path, key, "UTF-8 text", f"undecodable byte at position {error.start}") from None
    except OSError as error:
        raise InputError(path, key, "a readable file", error.strerror or str(error)) from None


def read_csv_strict(
    path: Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()
) -> list[tuple[int, dict[str, str]]]:
    """Rows as (spreadsheet row number, {column: stripped text}); optional columns may be absent."""
    return read_csv_table(path, columns, optional)[1]


def read_csv_table(
    path: Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header as written and the rows as read_csv_strict gives them: for callers that must
    know which optional columns the file really has (absent ones read as empty cells)."""
    text = read_text(path)
    if not text.strip():
        raise InputError(path, "header", f"a header row with columns {', '.join(columns)}", "an empty file")
    reader = csv.reader(text.splitlines())
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as error:
        raise InputError(path, "header", "a CSV header row", str(error)) from None
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise InputError(path, "header", "each column once", f"repeated {', '.join(duplicates)}")
    missing = [c for c in columns if c not in header and c not in optional]
    if missing:
        raise InputError(path, "header", f"the column(s) {', '.join(missing)}", ", ".join(header))
    unknown = [h for h in header if h not in columns]
    if unknown:
        raise InputError(path, "header", f"only the columns {', '.join(columns)}", f"unknown column(s) {', '.join(unknown)}")
    rows = []
    try:
        for row_number, cells in enumerate(reader, start=2):
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise InputError(path, f"row {row_number}", f"{len(header)} cells like the header", f"{len(cells)} cells")
            rows.append((row_number, {h: c.strip() for h, c in zip(header, cells)} | {c: "" for c in optional if c not in header}))
    except csv.Error as error:
        raise InputError(path, "rows", "well-formed CSV", str(error)) from None
    return header, rows
