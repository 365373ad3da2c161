"""Fenced blocks of the project's Markdown, with the ``docs-test`` directives that steer them.

A directive is an HTML comment on the line right above a fence (invisible on
the rendered site)::

    <!-- docs-test: skip: needs an Android phone -->

Directives, separated by ``;``:

* ``skip: REASON`` — not run: needs a phone, a hardware reader, or runs for ever;
* ``fragment: REASON`` — not run: part of something, shown for its shape;
* ``exit=N`` — the block is expected to end with exit status N (default 0);
* ``pcscd`` — the page's private pcscd (Debian's reader names) is up for this block;
* ``continues`` — a Python block that runs after the page's earlier Python blocks;
* ``output`` — a ``text`` block that is the output of the block before it;
* ``timeout=N`` — seconds (default 300).

A fence with ``title="PATH"`` (any language) is a file: the runner writes it to
PATH, relative to the page's shell's current directory, instead of running it.

Every fence must name its language, so that a shell command cannot escape
the runner by being left unlabelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Block", "DirectiveError", "RUNNABLE", "parse_blocks", "SHELL", "PYTHON"]

SHELL = frozenset({"sh", "bash", "shell", "console"})
PYTHON = frozenset({"python", "py", "pycon"})
RUNNABLE = SHELL | PYTHON
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")
_TITLE = re.compile(r'title="([^"]+)"')
_KNOWN = {"skip", "fragment", "exit", "pcscd", "continues", "output", "timeout"}


class DirectiveError(ValueError):
    """A fence or directive the runner cannot follow (the message names file and line)."""


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its text and its directives."""

    path: Path
    line: int
    lang: str
    text: str
    directives: dict[str, str] = field(default_factory=dict)
    #: ``title="PATH"`` on the fence (MkDocs shows it above the block): the block is the
    #: content of that file, which the runner writes instead of running it.
    title: str | None = None

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"

    @property
    def not_run_reason(self) -> str | None:
        """Why the block is not executed (None: it runs)."""
        for key in ("skip", "fragment"):
            if key in self.directives:
                return f"{key}: {self.directives[key]}"
        return None

    @property
    def runs(self) -> bool:
        return self.lang in RUNNABLE and self.not_run_reason is None and self.title is None

    @property
    def expected_exit(self) -> int:
        return int(self.directives.get("exit", "0"))

    @property
    def timeout(self) -> float:
        return float(self.directives.get("timeout", "300"))


def _directives(text: str, where: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition(":") if ":" in part.split("=")[0] else part.partition("=")
        key, value = key.strip(), value.strip()
        if key not in _KNOWN:
            raise DirectiveError(f"{where}: unknown docs-test directive {key!r} "
                                 f"(known: {', '.join(sorted(_KNOWN))})")
        if key in ("skip", "fragment") and not value:
            raise DirectiveError(f"{where}: '{key}' needs a reason: '{key}: why'")
        if key in ("exit", "timeout") and not re.fullmatch(r"\d+(\.\d+)?", value):
            raise DirectiveError(f"{where}: '{key}' needs a number: '{key}=N'")
        found[key] = value if sep else ""
    return found


def parse_blocks(path: Path) -> list[Block]:
    """Every fenced block of *path*, in order; raise :class:`DirectiveError` on a bad one."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, info = match.group("fence"), match.group("info").strip()
        lang = info.split(" ")[0]
        titled = _TITLE.search(info)
        where = f"{path.name}:{i + 1}"
        if not lang:
            raise DirectiveError(f"{where}: a fence without a language; name it (sh, python, "
                                 f"text, toml, …) so the docs runner knows whether to run it")
        previous = i - 1
        while previous >= 0 and not lines[previous].strip():
            previous -= 1
        directive = _DIRECTIVE.match(lines[previous]) if previous >= 0 else None
        directives = _directives(directive.group("body"), where) if directive else {}
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence[0] * len(fence)):
            body.append(lines[j][len(match.group("indent")):])
            j += 1
        if j == len(lines):
            raise DirectiveError(f"{where}: the fence is never closed")
        blocks.append(Block(path, i + 1, lang, "\n".join(body) + "\n", directives,
                            titled.group(1) if titled else None))
        i = j + 1
    return blocks
