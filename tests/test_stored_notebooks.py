"""The stored notebooks are what a learner reads first and what nbval compares: check they were really run.

nbval passes a notebook whose outputs were never stored (there is nothing to compare), so this test makes sure
every code cell ran, in order, in one fresh kernel, without unexpected errors or paths of the author's machine.
"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Every edition (notebooks/zh/...) is stored the same way.
ALL_NOTEBOOKS = NOTEBOOKS + sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*/[0-9][0-9]_*.ipynb"))
MACHINE_PATHS = re.compile(r"(/root/|/work/|/tmp/|/home/[^/\s]+/|C:\\\\Users)")


def test_the_workbook_has_its_notebooks():
    names = [p.stem[:2] for p in NOTEBOOKS]
    assert names[:10] == [f"{i:02d}" for i in range(10)]


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(p.parents[1])).removesuffix(".ipynb"))
def test_stored_outputs_come_from_one_clean_run(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    counts = [c.get("execution_count") for c in cells]
    assert None not in counts, "some code cells were never executed"
    assert counts == list(range(1, len(cells) + 1)), "not run top to bottom in a fresh kernel"
    for cell in cells:
        tags = cell.get("metadata", {}).get("tags", [])
        for output in cell["outputs"]:
            if output["output_type"] == "error":
                assert "raises-exception" in tags, f"unexpected error stored: {output['ename']}"
            if output.get("name") == "stderr":
                pytest.fail(f"stderr stored in a cell: {''.join(output['text'])[:200]}")
            blob = json.dumps(output.get("text", "")) + json.dumps(output.get("data", {}))
            assert not MACHINE_PATHS.search(blob), "an output shows a path of the author's machine"


TIMED_NOTEBOOKS = [p for p in ALL_NOTEBOOKS
                   if any("timing" in c.get("metadata", {}).get("tags", []) for c in json.loads(p.read_text())["cells"])]


def test_the_timed_notebooks_are_the_ones_measured():
    assert {p.stem[:2] for p in TIMED_NOTEBOOKS} >= {"06", "11", "14", "30", "40"}


@pytest.mark.parametrize("path", TIMED_NOTEBOOKS, ids=lambda p: str(p.relative_to(p.parents[1])).removesuffix(".ipynb"))
def test_timings_were_stored_on_a_quiet_machine(path):
    from tools.store import MAX_OTHER_LOAD

    record = json.loads(path.read_text())["metadata"].get("workbook", {})
    rel = path.relative_to(path.parents[2])
    assert "other_load" in record, f"no load recorded: store it with `python -m tools store {rel}` on a quiet machine"
    assert record["other_load"] <= MAX_OTHER_LOAD, (
        f"its timings were stored while other processes kept {record['other_load']} cores busy: store it again with "
        f"`python -m tools store {rel}` on a quiet machine")
