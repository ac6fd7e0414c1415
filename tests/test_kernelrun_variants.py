"""Memory variants and the THP/mTHP sysfs controls, on a fake sysfs tree.

The controls are multiple-choice files ("always [madvise] never"); on the real sysfs a
write selects a choice. The fake tree imitates that, so the tests need no root and
leave the machine alone: which sizes are found, what enabling one size alone writes,
and that a snapshot is written back exactly (what --setup does on exit and on signals).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from explorer.kernelrun import procfs, thp_sysfs, variants


class FakeSysfs:
    """A THP sysfs tree whose enabled files behave like the kernel's."""

    def __init__(self, root: Path, modes: dict[str, str], top: str = "madvise") -> None:
        self.root = root
        self.write(root / "enabled", ["always", "madvise", "never"], top)
        (root / "hpage_pmd_size").write_text("2097152\n")
        for kb, mode in modes.items():
            d = root / f"hugepages-{kb}"
            d.mkdir()
            self.write(d / "enabled", ["always", "inherit", "madvise", "never"], mode)
        (root / "hugepages-8kB").mkdir()  # a size without an anonymous control

    @staticmethod
    def write(path: Path, choices: list[str], chosen: str) -> None:
        path.write_text(" ".join(f"[{c}]" if c == chosen else c for c in choices) + "\n")

    def choice(self, name: str) -> str:
        return re.search(r"\[(\w+)\]", (self.root / name).read_text()).group(1)


@pytest.fixture
def fake(tmp_path, monkeypatch):
    sysfs = FakeSysfs(tmp_path, {"16kB": "never", "64kB": "inherit", "2048kB": "inherit"})
    monkeypatch.setattr(thp_sysfs, "THP_DIR", str(tmp_path))
    monkeypatch.setattr(thp_sysfs, "TOP_ENABLED", str(tmp_path / "enabled"))

    def select(path: str, text: str) -> None:
        old = Path(path).read_text()
        choices = old.replace("[", "").replace("]", "").split()
        if text not in choices:
            raise OSError(22, "Invalid argument")
        FakeSysfs.write(Path(path), choices, text)

    monkeypatch.setattr(procfs, "write_text", select)
    return sysfs


def test_sizes_are_the_anonymous_controls_ascending(fake):
    assert thp_sysfs.sizes() == [16 << 10, 64 << 10, 2 << 20]


def test_madvise_gets_follows_inherit_to_the_global_control(fake):
    assert not thp_sysfs.madvise_gets(16 << 10)
    assert thp_sysfs.madvise_gets(64 << 10)
    FakeSysfs.write(fake.root / "enabled", ["always", "madvise", "never"], "never")
    assert not thp_sysfs.madvise_gets(64 << 10)


def test_enable_only_one_size_then_restore_the_snapshot_exactly(fake):
    saved = thp_sysfs.snapshot()
    assert saved[str(fake.root / "hugepages-64kB/enabled")] == "inherit"
    thp_sysfs.enable_only(16 << 10)
    assert [fake.choice(f"hugepages-{kb}/enabled") for kb in ("16kB", "64kB", "2048kB")] == [
        "madvise", "never", "never"]
    assert thp_sysfs.madvise_gets(16 << 10) and not thp_sysfs.madvise_gets(2 << 20)
    assert thp_sysfs.restore(saved) == []
    assert thp_sysfs.snapshot() == saved


def test_restore_reports_a_control_that_does_not_read_back(fake, monkeypatch):
    saved = thp_sysfs.snapshot()
    thp_sysfs.enable_only(16 << 10)
    monkeypatch.setattr(procfs, "write_text", lambda path, text: None)  # writes ignored
    wrong = thp_sysfs.restore(saved)
    assert len(wrong) == 3
    assert "hugepages-16kB/enabled is [madvise], not [never]" in wrong[0]


def test_detect_lists_every_family_at_every_size_in_cow_c_order(fake, monkeypatch):
    monkeypatch.setattr(variants, "hugetlb_sizes", lambda: [2 << 20, 1 << 30])
    found = variants.detect()
    names = [v.name for v in found]
    assert names[:3] == ["base", "swap", "thp/16kB"]
    assert names[-2:] == ["hugetlb/2048kB", "hugetlb/1048576kB"]
    assert len(found) == 2 + 8 * 3 + 2
    assert [v.model_kind for v in found if v.family == "thp"] == ["pte-thp", "pte-thp", "thp"]
    assert all(v.model_kind is None for v in found if v.family.endswith("-swap")
               and v.family != "swap")
