"""GenerationProgress: tokens so far and their speed while generate runs, on one line that is empty at the end, so
that a stored notebook holds the same output on every machine."""

import json

import nbformat
import torch
from nbclient import NotebookClient

from helpers.display.progress import GenerationProgress


def test_outside_a_kernel_it_counts_and_shows_nothing():
    progress = GenerationProgress()
    progress.put(torch.tensor([[1, 2, 3]]))    # the prompt is not counted
    for token in range(4):
        progress.put(torch.tensor([token]))
    progress.end()
    assert progress.count == 4 and progress._handle is None


def test_in_a_kernel_the_line_shows_progress_then_is_emptied_and_serves_several_calls(tmp_path):
    code = (
        "import time, torch\n"
        "from IPython.display import DisplayHandle\n"
        "from helpers.display.progress import GenerationProgress\n"
        "shown = []\n"
        "DisplayHandle.update = lambda self, data, **kw: shown.append(data.get('text/plain'))\n"
        "progress = GenerationProgress(every=0)\n"
        "for call in range(2):\n"
        "    progress.put(torch.tensor([[1, 2, 3]]))\n"
        "    for token in range(3):\n"
        "        progress.put(torch.tensor([token]))\n"
        "    progress.end()\n"
        "print(json.dumps(shown))\n")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import json\n" + code)])
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = notebook.cells[0].outputs
    assert [o["output_type"] for o in outputs] == ["display_data", "stream"], "one line for both calls"
    assert outputs[0]["data"] == {"text/plain": ""}
    shown = json.loads(outputs[1]["text"])
    assert [line.split(" · ")[0] for line in shown[:3]] == [f"generating: {n} new" for n in (1, 2, 3)]
    assert shown[3] == "" and shown[-1] == "" and shown[4].startswith("generating: 1 new ·")
    assert "tokens per second" in shown[0]
