"""Output paths checked before the search: a typo in ``--json /nonexistent/x.json``
ends the command at once (exit 151), not after a search of minutes whose result is then
lost."""

from __future__ import annotations

import os
from pathlib import Path

from explorer.cli_common import CommandError
from explorer.textsafe import printable
from pyspec.exit_codes import EXIT_MODEL_ERROR


def _refuse(option: str, path: str, why: str) -> CommandError:
    return CommandError(printable(f"error: {option} {path}: {why}"), EXIT_MODEL_ERROR)


def _writable_dir(d: Path) -> bool:
    return os.access(d, os.W_OK | os.X_OK)


def check_file(option: str, path: str | None) -> None:
    """``path`` can be created or overwritten: its directory exists and is writable."""
    if path is None:
        return
    target = Path(path)
    parent = target.parent
    if target.is_dir():
        raise _refuse(option, path, "is a directory")
    if not parent.is_dir():
        raise _refuse(option, path, f"directory {parent} does not exist")
    if not _writable_dir(parent) or (target.exists() and not os.access(target, os.W_OK)):
        raise _refuse(option, path, "not writable")


def check_dir(option: str, path: str | None) -> None:
    """``path`` is a writable directory, or can be created as one (with its parents)."""
    if path is None:
        return
    target = Path(path)
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise _refuse(option, path, f"{existing} is not a directory")
    if not _writable_dir(existing):
        raise _refuse(option, path, f"{existing} is not writable")
