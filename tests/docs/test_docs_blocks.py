"""Every shell and Python block of README.md and docs/*.md runs as written (issue: docs that
cannot lie). Output shown after a command is compared with what it prints.

Why our own collector and not pytest-examples: that plugin runs Python blocks only, and most
of what the docs show is shell: commands against a private pcscd with Debian's reader names,
personalise → serve → tap sequences that share a store, expected exit statuses. The runner is
small (markdown_blocks.py + runner.py) and its own behaviour is tested below.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hcekit.testing.requirements import missing

from . import conftest
from .markdown_blocks import Block, DirectiveError, parse_blocks
from .runner import REPO, BlockFailure, PageRun, normalise, output_matches

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_blocks_run_as_written(page: Path, tmp_path: Path) -> None:
    blocks = parse_blocks(page)
    if any("pcscd" in b.directives and b.runs for b in blocks):
        from hcekit.testing.pcsc import find_vpcd_driver

        try:
            find_vpcd_driver()
        except Exception as exc:
            missing(f"{page.name} needs pcscd + vpcd: {exc}")
    run = PageRun(page, tmp_path)
    try:
        for block in blocks:
            run.run(block)
            reason = block.not_run_reason
            if block.runs:
                conftest.RAN.append(block)
            elif block.title is not None and reason is None:
                conftest.WRITTEN.append(block)
            elif reason is not None and (block.lang in conftest.RUNNABLE):
                conftest.NOT_RUN.append((block, reason))
    finally:
        run.close()


# -- the runner itself -----------------------------------------------------------------------


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    return page


def test_a_failing_block_fails_the_page(tmp_path: Path) -> None:
    page = _page(tmp_path, "```sh\nfalse\n```\n")
    run = PageRun(page, tmp_path / "run")
    with pytest.raises(BlockFailure, match=r"page.md:1: exit status 1"):
        run.run(parse_blocks(page)[0])


def test_expected_exit_and_output_are_checked(tmp_path: Path) -> None:
    page = _page(tmp_path, (
        "<!-- docs-test: exit=3 -->\n```sh\necho hi; sh -c \"exit 3\"\n```\n\n"
        "```console\n$ echo hello 2026-01-01T10:00:00.123Z took 12 µs\n"
        "hello 2026-11-30T08:00:00Z took 99 µs\n```\n"
        "\n```console\n$ echo wrong\nright\n```\n"))
    run = PageRun(page, tmp_path / "run")
    first, second, third = parse_blocks(page)
    run.run(first)
    run.run(second)
    with pytest.raises(BlockFailure, match="not what the command prints"):
        run.run(third)


def test_fences_must_name_a_language_and_directives_are_checked(tmp_path: Path) -> None:
    with pytest.raises(DirectiveError, match="without a language"):
        parse_blocks(_page(tmp_path, "```\nhcekit demo\n```\n"))
    with pytest.raises(DirectiveError, match="unknown docs-test directive 'skpi'"):
        parse_blocks(_page(tmp_path, "<!-- docs-test: skpi: x -->\n```sh\nls\n```\n"))
    with pytest.raises(DirectiveError, match="needs a reason"):
        parse_blocks(_page(tmp_path, "<!-- docs-test: skip -->\n```sh\nls\n```\n"))
    (block,) = parse_blocks(_page(tmp_path, "<!-- docs-test: skip: needs a phone -->\n```sh\nx\n```\n"))
    assert isinstance(block, Block) and not block.runs
    assert block.not_run_reason == "skip: needs a phone"


def test_output_matching_rules() -> None:
    assert output_matches(["a", "...", "z"], ["a", "b", "c", "z"])
    assert output_matches(["a", "...", "z"], ["a", "z"])
    assert not output_matches(["a", "z"], ["a", "b", "z"])
    assert output_matches(["card …, ok"], ["card 1234, ok"])
    assert normalise("took 1.5 ms at 2026-11-30 08:00:00\n\n") == ["took <DURATION> at <TIME>"]


def test_pip_installs_stay_on_the_page(tmp_path: Path) -> None:
    """A block's 'pip install' lands in the page's overlay venv, which still sees hcekit."""
    page = _page(tmp_path, "```sh\nmkdir -p demo_pkg/demo_pkg_mod\n"
                 "touch demo_pkg/demo_pkg_mod/__init__.py\n"
                 "printf '[project]\\nname=\"demo-pkg-x\"\\nversion=\"0\"\\n' > demo_pkg/pyproject.toml\n"
                 "pip install -q --no-deps -e demo_pkg\n"
                 "python -c 'import demo_pkg_mod, hcekit'\nhcekit --version\n```\n")
    run = PageRun(page, tmp_path / "run")
    run.run(parse_blocks(page)[0])
    import importlib.util

    assert importlib.util.find_spec("demo_pkg_mod") is None  # not in the suite's environment


def test_a_page_is_one_shell_session(tmp_path: Path) -> None:
    """cd, exports and functions of one block are there in the next, as in a terminal."""
    page = _page(tmp_path, "```sh\nmkdir sub && cd sub\nexport GREETING=hi\n```\n\n"
                 "```console\n$ basename \"$PWD\" && echo $GREETING\nsub\nhi\n```\n")
    run = PageRun(page, tmp_path / "run")
    try:
        for block in parse_blocks(page):
            run.run(block)
    finally:
        run.close()
