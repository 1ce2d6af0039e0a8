"""Reference values computed with mpmath by the scripts in tests/references/."""

import json
from pathlib import Path

REFERENCES = Path(__file__).parent / "references"


def load_references(name: str) -> dict:
    return json.loads((REFERENCES / name).read_text())
