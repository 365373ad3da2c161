"""Summary of the docs runner: how many blocks ran, and which were not run and why."""

from __future__ import annotations

import pytest

from .markdown_blocks import RUNNABLE, Block

#: Filled by the page tests: blocks run, and runnable blocks not run with their reason.
RAN: list[Block] = []
WRITTEN: list[Block] = []
NOT_RUN: list[tuple[Block, str]] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RAN and not NOT_RUN:
        return
    write = terminalreporter.write_line
    terminalreporter.section("docs runner")
    write(f"{len(RAN)} block(s) of README.md and docs/*.md executed, {len(WRITTEN)} written "
          f"as the files they show; {len(NOT_RUN)} marked not to run:")
    for block, reason in NOT_RUN:
        write(f"  {block.where} ({block.lang}): {reason}")


__all__ = ["NOT_RUN", "RAN", "RUNNABLE", "WRITTEN"]
