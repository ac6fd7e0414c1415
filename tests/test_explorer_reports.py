"""JSON (against its schema), ITF and JUnit outputs of ``cowspec check``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import jsonschema
import pytest
from explorer_testing import model_path, run_cli

from explorer.report_json import load_schema

TOYS = model_path("toys")
VALIDATOR = jsonschema.Draft202012Validator(load_schema())


@pytest.mark.parametrize(
    "argv",
    [
        [model_path("diehard")],
        [model_path("diehard"), "--all-models"],
        [model_path("twophase")],
        [TOYS, "--model", "scenarios"],
        [TOYS, "--model", "crash"],
        [TOYS, "--model", "grid", "--max-states", "50"],
        [TOYS, "--model", "coverage", "--strict-coverage"],
        [TOYS, "--model", "pages"],
    ],
)
def test_json_validates_against_the_schema(capsys, tmp_path, argv) -> None:
    out = tmp_path / "result.json"
    code, _, _ = run_cli(capsys, "check", *argv, "--json", str(out))
    doc = json.loads(out.read_text())
    VALIDATOR.validate(doc)
    assert doc["exit_code"] == code


def test_json_holds_the_whole_result(capsys, tmp_path) -> None:
    out = tmp_path / "r.json"
    run_cli(capsys, "check", model_path("diehard"), "--model", "solve", "--json", str(out))
    doc = json.loads(out.read_text())
    assert doc["model"] == "solve"
    assert doc["spec"] == model_path("diehard")
    assert (doc["distinct_states"], doc["total_states"], doc["depth"]) == (16, 97, 8)
    props = {p["name"]: p for p in doc["properties"]}
    ns = props["NotSolved"]
    assert (ns["verdict"], ns["expected"], ns["judgement"]) == ("violated", "violated", "pass")
    assert ns["trace"][0] == {
        "action": None,
        "params": {},
        "label": "initial state",
        "tags": [],
        "state": {"big": 0, "small": 0},
    }
    assert ns["trace"][-1]["state"]["big"] == 4
    assert props["TypeOK"]["trace"] is None
    assert doc["coverage"]["never_fired"] == []


def test_json_of_scenarios_and_params(capsys, tmp_path) -> None:
    out = tmp_path / "r.json"
    run_cli(capsys, "check", TOYS, "--model", "scenarios", "--json", str(out))
    doc = json.loads(out.read_text())
    ok = next(s for s in doc["scenarios"] if s["name"] == "ok")
    assert ok["judgement"] == "pass"
    assert [step["params"] for step in ok["traces"]["end"]] == [{}, {"d": 1}, {"d": 2}]


def test_itf_single_trace_goes_to_the_file(capsys, tmp_path) -> None:
    out = tmp_path / "cex.itf.json"
    run_cli(capsys, "check", model_path("diehard"), "--itf", str(out))
    doc = json.loads(out.read_text())
    assert doc["#meta"]["format"] == "ITF"
    assert doc["vars"] == ["big", "small"]
    assert [s["#meta"]["index"] for s in doc["states"]] == list(range(7))
    zero = {"#bigint": "0"}
    first = {"#meta": {"index": 0, "action": "initial state"}, "big": zero, "small": zero}
    assert doc["states"][0] == first
    assert doc["states"][-1]["big"] == {"#bigint": "4"}


def test_itf_one_file_per_trace_when_several(capsys, tmp_path) -> None:
    out = tmp_path / "cex.itf.json"
    run_cli(capsys, "check", TOYS, "--model", "pages", "--continue", "--itf", str(out))
    (only,) = sorted(p.name for p in tmp_path.iterdir())
    assert only == "cex.itf.json"
    doc = json.loads(out.read_text())
    assert doc["states"][-1]["page"] == {"#map": [["P0", "Shared"], ["P1", "Shared"]]}
    run_cli(capsys, "check", model_path("diehard"), "--all-models", "--itf", str(out))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "cex.puzzle.NotSolved.itf.json" in names
    assert "cex.witness.Solved.itf.json" in names


def test_junit_has_one_case_per_property_and_scenario(capsys, tmp_path) -> None:
    out = tmp_path / "junit.xml"
    run_cli(capsys, "check", TOYS, "--model", "scenarios", "--junit", str(out))
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    names = [c.get("name") for c in suite.findall("testcase")]
    assert names == [
        "invariant Small",
        "scenario ok",
        "scenario bump-bad",
        "scenario bump-unexpected",
        "scenario missing",
        "scenario stuck",
        "scenario any",
    ]
    assert suite.get("tests") == "7" and suite.get("failures") == "3"
    assert root.get("failures") == "3"
    stuck = next(c for c in suite.findall("testcase") if c.get("name") == "scenario stuck")
    assert "stuck at step 3" in stuck.find("failure").get("message")


def test_junit_errors_and_skips(capsys, tmp_path) -> None:
    out = tmp_path / "junit.xml"
    run_cli(capsys, "check", TOYS, "--model", "crash", "--junit", str(out))
    suite = ET.parse(out).getroot().find("testsuite")
    assert suite.get("errors") == "1"
    assert suite.find("testcase/error").get("message") == "division by zero"
    assert suite.get("skipped") == "1"
