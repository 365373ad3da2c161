"""Load the public known-answer vectors in tests/vectors/sm (each names its source)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "sm"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    assert data.get("source"), f"{name} does not name its source"
    return data


def ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [str(v["name"]) for v in vectors]
