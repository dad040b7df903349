"""Executes examples/notebooks/explore.ipynb headless with nbclient; any failing cell fails.

Run: python tests/python/run_notebook.py
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "notebooks" / "explore.ipynb"
OUTPUTS_DOC = ROOT / "docs" / "outputs.md"


def check_doc_snippets(notebook):
    """Every Python snippet of docs/outputs.md's "Reading the outputs" is in a notebook cell."""
    section = OUTPUTS_DOC.read_text().split("## Reading the outputs", 1)[1]
    snippets = [block.split("```", 1)[0].strip() for block in section.split("```python")[1:]]
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    missing = [s for s in snippets if not any(s in source for source in sources)]
    if not snippets or missing:
        sys.exit(f"docs/outputs.md snippets not found in the notebook: {missing or 'none found'}")
    return len(snippets)


def main():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    if any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"):
        sys.exit(f"{NOTEBOOK} has outputs: strip them before committing")
    snippets = check_doc_snippets(notebook)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    print(f"notebook: {sum(c.cell_type == 'code' for c in notebook.cells)} code cells ran, {snippets} doc snippets checked")


if __name__ == "__main__":
    main()
