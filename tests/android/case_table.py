"""A docs page that maps an upstream test suite's cases to our scenarios, read for checking.

docs/android-aosp-cases.md (AOSP's unit tests) and docs/android-cts-cases.md
(CTS) share one shape: a committed list of case names with its source commit,
and a table row per case naming our scenario or saying why there is none.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\|\s*`?(?P<case>\w+Test\.\w+)`?\s*\|(?P<what>[^|]*)\|(?P<ours>[^|]*)\|\s*$")
NODE = re.compile(r"`?(tests/android/[\w/]+\.py)::(\w+)(\[[\w-]+\])?`?")
NO_SCENARIO = ("not applicable:", "not mirrored:")


class CaseTable:
    """The case list (``cases``) and the docs page (``table``) that maps it."""

    def __init__(self, cases: Path, table: Path) -> None:
        self.cases = cases
        self.table = table

    def names(self) -> list[str]:
        return [line.strip() for line in self.cases.read_text().splitlines()
                if line.strip() and not line.startswith("#")]

    def header_names_a_commit(self) -> bool:
        header = self.cases.read_text().splitlines()[:4]
        return any(re.search(r"commit [0-9a-f]{40}", line) for line in header)

    def rows(self) -> list[tuple[str, str, str]]:
        """(case, what it states, our scenario or the reason) per table row."""
        rows = []
        for line in self.table.read_text().splitlines():
            match = ROW.match(line)
            if match:
                rows.append((match["case"], match["what"].strip(), match["ours"].strip()))
        return rows

    def missing_unknown_repeated(self) -> tuple[list[str], list[str], list[str]]:
        listed = [case for case, _, _ in self.rows()]
        expected = self.names()
        return ([case for case in expected if case not in listed],
                [case for case in listed if case not in expected],
                sorted({case for case in listed if listed.count(case) > 1}))

    def check_every_row_names_a_scenario_or_a_reason(self) -> None:
        collected: dict[str, set[str]] = {}
        for case, what, ours in self.rows():
            assert what, f"{case}: say what the case states"
            if ours.startswith(NO_SCENARIO):
                assert len(ours.split(":", 1)[1].strip()) > 10, f"{case}: give the reason"
                continue
            node = NODE.fullmatch(ours)
            assert node, f"{case}: {ours!r} is not a node id or a reason"
            if node[1] not in collected:
                source = (ROOT / node[1]).read_text()
                collected[node[1]] = set(re.findall(r"^def (test_\w+)", source, re.MULTILINE))
            assert node[2] in collected[node[1]], f"{case}: {node[1]}::{node[2]} does not exist"

    def counted(self) -> dict[str, int]:
        """What the rows add up to: cases, mirrored, not applicable, not mirrored."""
        rows = self.rows()
        reasons = [ours.split(":", 1)[0] for _, _, ours in rows]
        return {"cases": len(rows),
                "mirrored": sum(not r.startswith("not ") for r in reasons),
                "not applicable": reasons.count("not applicable"),
                "not mirrored": reasons.count("not mirrored")}
