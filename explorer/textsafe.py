"""Text from a spec or a file name, made safe for the place it is written to.

A spec's strings may hold any character but ``"``, ``\\`` and a newline, so a state value,
an annotation or a source line can carry control characters and terminal escape codes;
a file name that is not UTF-8 reaches Python as lone surrogates (PEP 383), which no UTF-8
writer accepts. Reports must neither break (exit 255, invalid XML) nor let a spec drive
the user's terminal, so every such character is written as a visible escape (``\\x1b``,
``\\xff``) instead.
"""

from __future__ import annotations

import re
from typing import Any

#: Bytes of a non-UTF-8 file name, as ``os.fsdecode`` hands them over.
_SURROGATE = re.compile("[\udc80-\udcff]")
#: C0 controls but tab and newline, DEL, C1 controls: what a terminal may act on.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: What XML 1.0 cannot carry at all (tab, newline and carriage return it can).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _byte_escape(m: re.Match[str]) -> str:
    return f"\\x{ord(m.group()) - 0xDC00:02x}"


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def encodable(text: str) -> str:
    """``text`` with the undecodable bytes of a file name written as ``\\xNN``."""
    return _SURROGATE.sub(_byte_escape, text)


def printable(text: str) -> str:
    """``text`` for a terminal: control characters and escape codes made visible."""
    return _CONTROL.sub(_escape, encodable(text))


def xml_text(text: str) -> str:
    """``text`` for an XML attribute or element: what XML 1.0 forbids made visible."""
    return _NOT_XML.sub(_escape, encodable(text))


def encodable_tree(value: Any) -> Any:
    """A JSON-like document with every string passed through :func:`encodable`."""
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, dict):
        return {encodable_tree(k): encodable_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encodable_tree(v) for v in value]
    return value


class PrintableStream:
    """A text stream that passes everything written through :func:`printable`; ``cowspec``
    wraps stdout in one, so no report can forget it."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(printable(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
