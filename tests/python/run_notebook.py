"""Executes examples/notebooks/explore.ipynb headless with nbclient; any failing cell fails.
Then runs every Python snippet of docs/outputs.md's "Reading the outputs", verbatim and in
order, in one fresh namespace from the repository root, on the notebook's outputs: a
snippet that does not run as shown fails.

Run: python tests/python/run_notebook.py
"""

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "notebooks" / "explore.ipynb"
OUTPUTS_DOC = ROOT / "docs" / "outputs.md"


def doc_snippets():
    """The Python snippets of docs/outputs.md's "Reading the outputs", in order."""
    section = OUTPUTS_DOC.read_text().split("## Reading the outputs", 1)[1]
    snippets = [block.split("```", 1)[0].strip() for block in section.split("```python")[1:]]
    if not snippets:
        sys.exit("docs/outputs.md: no Python snippets found under 'Reading the outputs'")
    return snippets


def run_doc_snippets(snippets):
    """Runs the snippets as a reader would paste them, from the repository root."""
    namespace = {}
    os.chdir(ROOT)
    for k, snippet in enumerate(snippets, 1):
        try:
            exec(compile(snippet, f"docs/outputs.md snippet {k}", "exec"), namespace)
        except Exception as error:  # noqa: BLE001 - report which snippet failed
            sys.exit(f"docs/outputs.md snippet {k} does not run as shown: {error!r}\n{snippet}")
    return len(snippets)


def main():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    if any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"):
        sys.exit(f"{NOTEBOOK} has outputs: strip them before committing")
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    snippets = run_doc_snippets(doc_snippets())
    print(f"notebook: {sum(c.cell_type == 'code' for c in notebook.cells)} code cells ran; {snippets} doc snippets ran verbatim")


if __name__ == "__main__":
    main()
