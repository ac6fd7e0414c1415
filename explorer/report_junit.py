"""JUnit XML, which every CI system reads: one test case per property, witness and
scenario, so a CI page lists exactly which verdict broke."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from explorer.report_text import property_title, render_failure, render_trace
from explorer.result import Judgement, Result
from pyspec.errors import SourceCache


def _case(
    suite: ET.Element, model: str, name: str, judgement: Judgement, message: str, body: str = ""
) -> None:
    case = ET.SubElement(suite, "testcase", classname=f"cowspec.{model}", name=name, time="0")
    if judgement == "fail":
        fail = ET.SubElement(case, "failure", message=message, type="verdict")
        fail.text = body
    elif judgement == "unknown":
        ET.SubElement(case, "skipped", message=message)


def _suite(root: ET.Element, r: Result, sources: SourceCache) -> None:
    suite = ET.SubElement(root, "testsuite", name=r.model, time=f"{r.stats.elapsed_s:.3f}")
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="spec", value=r.spec or "")
    ET.SubElement(props, "property", name="exit_code", value=str(r.exit_code))
    if r.error is not None:
        case = ET.SubElement(suite, "testcase", classname=f"cowspec.{r.model}", name="evaluation")
        err = ET.SubElement(case, "error", message=r.error.message, type="E900")
        err.text = render_failure(r.error, sources, full=False)
    for p in r.properties:
        message = f"{p.verdict} (expected: {p.expected})"
        body = render_trace(p.trace) if p.trace is not None else ""
        _case(suite, r.model, property_title(p), p.judgement, message, body)
    for s in r.scenarios:
        bodies = [f"{n}:\n{render_trace(t)}" for n, t in s.traces.items() if n in s.violated]
        _case(suite, r.model, f"scenario {s.name}", s.judgement, s.reason, "\n\n".join(bodies))
    if r.coverage.strict:
        never = ", ".join(r.coverage.never_fired)
        _case(suite, r.model, "coverage", r.coverage.judgement, f"never fired: {never}")
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
