"""docs/compatibility.md states the same verdict for every kind as the code's table."""

from __future__ import annotations

import re
from pathlib import Path

from exchange.registry import BACKWARD_COMPATIBLE, DifferenceKind

DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"
ROW = re.compile(r"^\| `(?P<kind>[A-Z_]+)` \| (?P<verdict>compatible|incompatible)\b", re.M)


def test_documented_table_matches_the_code_table_for_every_kind():
    documented = {
        DifferenceKind[row["kind"]]: row["verdict"] == "compatible"
        for row in ROW.finditer(DOC.read_text(encoding="utf-8"))
    }
    assert documented == BACKWARD_COMPATIBLE
