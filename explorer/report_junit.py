"""JUnit XML, which every CI system reads: one test case per property, witness and
scenario, so a CI page lists exactly which verdict broke.

Each case carries the ``file`` and ``line`` where its property or scenario is written, so
a CI system can annotate the spec. Suites are named ``SPEC:MODEL`` (two specs' ``default``
models stay apart), and class names contain no dots, which CI systems read as packages.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from explorer.report_text import property_title, render_failure, render_trace
from explorer.result import Judgement, Result
from explorer.textsafe import xml_text
from pyspec.errors import SourceCache
from pyspec.model import SourcePos


def class_name(r: Result) -> str:
    """``cow_linux-5_19`` for model linux-5.19 of cow.cow: no dots, stable per suite."""
    stem = Path(r.spec).stem if r.spec else "cowspec"
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{stem}_{r.model}")


def _case(
    suite: ET.Element,
    r: Result,
    name: str,
    pos: SourcePos | None,
    judgement: Judgement,
    message: str,
    body: str = "",
) -> None:
    attrs = {"classname": class_name(r), "name": xml_text(name), "time": "0"}
    if pos is not None:
        attrs |= {"file": xml_text(pos.file), "line": str(pos.line)}
    case = ET.SubElement(suite, "testcase", attrs)
    if judgement == "fail":
        fail = ET.SubElement(case, "failure", message=xml_text(message), type="verdict")
        fail.text = xml_text(body)
    elif judgement == "unknown":
        ET.SubElement(case, "skipped", message=xml_text(message))


def _suite(root: ET.Element, r: Result, sources: SourceCache) -> None:
    name = f"{r.spec}:{r.model}" if r.spec else r.model
    suite = ET.SubElement(
        root, "testsuite", name=xml_text(name), time=f"{r.stats.elapsed_s:.3f}"
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="spec", value=xml_text(r.spec or ""))
    ET.SubElement(props, "property", name="model", value=xml_text(r.model))
    ET.SubElement(props, "property", name="exit_code", value=str(r.exit_code))
    if r.error is not None:
        attrs = {"classname": class_name(r), "name": "evaluation"}
        if r.error.pos is not None:
            attrs |= {"file": xml_text(r.error.pos.file), "line": str(r.error.pos.line)}
        case = ET.SubElement(suite, "testcase", attrs)
        err = ET.SubElement(case, "error", message=xml_text(r.error.message), type="E900")
        err.text = xml_text(render_failure(r.error, sources, full=False))
    for p in r.properties:
        message = f"{p.verdict} (expected: {p.expected})"
        body = render_trace(p.trace) if p.trace is not None else ""
        _case(suite, r, property_title(p), p.pos, p.judgement, message, body)
    for s in r.scenarios:
        bodies = [f"{n}:\n{render_trace(t)}" for n, t in s.traces.items() if n in s.violated]
        _case(suite, r, f"scenario {s.name}", s.pos, s.judgement, s.reason, "\n\n".join(bodies))
    if r.coverage.strict:
        never = ", ".join(r.coverage.never_fired)
        _case(suite, r, "coverage", None, r.coverage.judgement, f"never fired: {never}")
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))


def junit_xml(results: list[Result]) -> bytes:
    root = ET.Element("testsuites", name="cowspec")
    sources = SourceCache()
    for r in results:
        _suite(root, r, sources)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in root.findall("testsuite"))))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write_junit(results: list[Result], path: str) -> None:
    Path(path).write_bytes(junit_xml(results))
