"""How long the classes and functions of some source files are (issues 17 and 26)."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path


def over(paths: Iterable[Path], kind: type[ast.AST], limit: int) -> list[str]:
    """``file: name is N lines`` for every *kind* node longer than *limit* lines."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, kind):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    found.append(f"{path.name}: {getattr(node, 'name', '?')} is {length} lines")
    return found
