"""docs/api.md's examples run as written and print what the page says."""

from __future__ import annotations

import contextlib
import io
import re

import pytest
from pyspec_testing import ROOT

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "api.md").read_text(), re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_api_examples_run_and_print_what_the_page_says(index: int, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(BLOCKS[index], f"docs/api.md block {index}", "exec"), {})  # noqa: S102
    # A "# -> VALUE" comment is a line the block printed (up to "..." or "  (" remarks).
    printed = out.getvalue().splitlines()
    claims = re.findall(r"# -> (.*)$", BLOCKS[index], re.MULTILINE)
    assert claims
    for claim in claims:
        expected = re.split(r"\.\.\.|  \(", claim)[0].strip()
        assert any(p.startswith(expected) for p in printed), (claim, printed)
