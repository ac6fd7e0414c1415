"""``cowspec explore``: the page is one self-contained file holding every state kept,
their successors and BFS parents, the traces, the views; and, in headless Chromium (when
installed), a user can step through the CVE's trace, open a state and its successors,
jump to the shortest path to it, switch to a view and back.

The browser test saves its screenshots to ``$COWSPEC_SCREENSHOTS`` when set (that is how
docs/images/explore/ is made: ``COWSPEC_SCREENSHOTS=docs/images/explore pytest -k browser``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from explorer_testing import run_cli
from test_explorer_simulate import COW, DIEHARD, PAGES

from explorer.replay import model_hash
from pyspec.loader import load_spec

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: The CVE (CVE-2020-29374, vmsplice after fork) on linux-5.7, as check prints it: its
#: successor positions, after the hash of the model's shape (which moves with the spec).
CVE_POSITIONS = "0.0.3.6.4.5"


def page_data(html: str) -> dict:
    blob = re.search(r'<script type="application/json" id="data">(.*?)</script>', html, re.S)
    assert blob is not None
    return json.loads(blob.group(1))


def test_page_is_self_contained_and_holds_the_whole_small_graph(capsys, tmp_path) -> None:
    out = tmp_path / "p.html"
    code, stdout, _ = run_cli(capsys, "explore", str(PAGES), "--html", str(out))
    assert code == 0 and f"wrote {out}" in stdout
    html = out.read_text()
    assert "<script src" not in html and "<link " not in html and "url(" not in html
    # The only addresses are the XML namespaces of the inline SVG diagrams.
    assert set(re.findall(r"[a-z]+://[^\s\\\"'<>]+", html)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    d = page_data(html)
    code, check_out, _ = run_cli(capsys, "check", str(PAGES), "--no-scenarios")
    distinct = int(re.search(r"([\d,]+) distinct states", check_out).group(1).replace(",", ""))
    assert d["stats"]["distinct"] == d["stats"]["shown"] == len(d["states"]) == distinct
    assert d["notes"] == []
    # BFS parents: following them from any state reaches an initial state in level-1 steps.
    for sid, st in enumerate(d["states"]):
        hops = 0
        while d["states"][sid]["parent"][0] >= 0:
            sid = d["states"][sid]["parent"][0]
            hops += 1
        assert hops == st["level"] - 1
    (trace,) = d["traces"]
    assert trace["name"] == "NotBothShared" and trace["judgement"] == "pass"
    assert trace["replay"].startswith("v1:") and trace["why"]
    assert [v["name"] for v in d["views"]] == ["Lifecycle"]


def test_page_caps_its_states_and_says_so(capsys, tmp_path) -> None:
    out = tmp_path / "p.html"
    code, stdout, _ = run_cli(capsys, "explore", DIEHARD, "--html", str(out), "--max-shown", "5",
                              "--replay", "v1:b5c50dbf:0.1.5.2.5.1.5")
    assert code == 0
    d = page_data(out.read_text())
    assert len(d["states"]) == 5
    assert d["notes"] == ["the page keeps the first 5 of 16 states (BFS order; raise "
                          "--max-shown); traces show all their states"]
    assert "note: the page keeps the first 5 of 16 states" in stdout
    replayed = d["traces"][0]
    assert replayed["kind"] == "replay" and len(replayed["steps"]) == 7
    assert [s["state"] for s in replayed["steps"]][:2] == [0, 2]  # kept states are linked
    assert replayed["steps"][-1]["state"] == -1  # beyond the cap: shown, not linked


def test_page_refuses_a_missing_directory(capsys, tmp_path) -> None:
    code, _, err = run_cli(capsys, "explore", DIEHARD, "--html", str(tmp_path / "no" / "p.html"))
    assert code == 151 and "no directory" in err


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def test_browser_steps_through_the_cve_and_around_its_states(
    capsys, tmp_path, monkeypatch, browser
) -> None:
    t0 = time.monotonic()
    out = tmp_path / "cve.html"
    shots = Path(os.environ.get("COWSPEC_SCREENSHOTS") or tmp_path).resolve()
    monkeypatch.chdir(Path(COW).parents[2])  # the page names the spec as given
    code, _, _ = run_cli(capsys, "explore", "spec/kernel/cow.cow", "--model", "linux-5.7",
                         "--max-states", "3000", "--max-shown", "400", "--html", str(out))
    assert code == 0
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(out.as_uri())

    # The CVE's counterexample, step by step: the last step is the child's write.
    page.select_option("#trace-select", label="invariant Isolation violated as expected (6 states)")
    assert page.locator("#steps li").count() == 6
    model = load_spec(COW).instantiate("linux-5.7")
    assert page.inner_text("#replay") == f"v1:{model_hash(model)}:{CVE_POSITIONS}"
    page.locator("#steps li").nth(5).click()
    changed = page.locator("#state-table tr.changed td:first-child").all_inner_texts()
    assert changed == ["pte[C][A0]", "page[F0].data"]
    action = page.inner_text("#action-info")
    assert "action Store" in action and "faults.cow" in action
    assert "@kernel('mm/memory.c: do_wp_page')" in action and "@patch(9)" in action
    why = page.inner_text("#why")
    assert "Why Isolation is violated here" in why and "[for c = Written(C, CPU)]" in why
    page.screenshot(path=str(shots / "explore-trace.png"), full_page=False)

    # The state after Fork: its successors, then the shortest path to it.
    page.locator("#steps li").nth(2).click()
    page.locator("#step-state .link").click()
    assert page.is_visible("#panel-state")
    rows = page.locator("#succ-table tr.succ")
    assert rows.count() > 5
    store = rows.filter(has_text="Store(p=C, a=A0)")
    assert store.count() == 1  # the child's write: COW copies, the PTE changes
    assert "pte[C][A0]: Present(F0, false) \u2192 Present(" in store.inner_text()
    page.screenshot(path=str(shots / "explore-state.png"), full_page=False)
    page.click("#path-btn")
    assert page.is_visible("#panel-trace")
    labels = page.locator("#steps li").all_inner_texts()
    assert labels[0] == "initial state" and labels[-1] == "Fork" and len(labels) == 3

    # A view, a label's states, one of them, and back to the view.
    page.click("#tab-view")
    assert page.locator("#view-svg svg").count() == 1
    page.locator("#labels .link", has_text="possibly shared, pinned").click()
    page.locator("#label-states .link").first.click()
    assert page.is_visible("#panel-state")
    page.click("#back-btn")
    assert page.is_visible("#panel-view") and page.is_visible("#label-states")
    page.screenshot(path=str(shots / "explore-view.png"), full_page=False)

    assert errors == []
    assert all(u.startswith("file:") for u in requests)  # nothing from the network
    print(f"browser test: {time.monotonic() - t0:.1f} s")
