"""One store rule for every command that builds a card (issue 21) and store paths (issue 16).

personalise → tap → send → replay must see one card: the ``--store`` store,
by default ``$HCEKIT_STORE`` or ``$XDG_DATA_HOME/hcekit/store.sqlite`` (the
suite's conftest points ``XDG_DATA_HOME`` at a temporary directory).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hcekit.cli import main
from hcekit.store import SqliteStore

PIV_SELECT = "00A404000BA00000030800001000010000"
PIV_GET_CHUID = "00CB3FFF055C035FC10200"
OSE_SELECT = "00A404000A4F53452E5641532E303100"


def hcekit(*args: str, env: dict[str, str] | None = None,
           cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("hcekit", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-m", "hcekit.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def default_store() -> Path:
    return Path(os.environ["XDG_DATA_HOME"]) / "hcekit" / "store.sqlite"


def trace_of(send_output: str) -> str:
    """A trace file (hcekit.tracefile format) of the exchanges ``hcekit send`` printed."""
    lines = ["# hcekit trace 1", "2026-01-01T00:00:00.000000Z field on"]
    for line in send_output.splitlines():
        found = re.match(r"\s+(>>|<<) ([0-9A-F ]+?)(?:\s\s\(.*\))?$", line)
        if found:
            lines.append(f"2026-01-01T00:00:00.000000Z {found[1]} {found[2]}")
    lines.append("2026-01-01T00:00:00.000000Z field off LINK_LOSS")
    return "\n".join(lines) + "\n"


def test_access_badge_personalise_tap_send_replay_on_one_store(tmp_path: Path) -> None:
    store = tmp_path / "cards.sqlite"
    made = hcekit("access", "personalize", "--store", str(store))
    assert made.returncode == 0, made.stderr
    card_id = re.search(r"card identifier: (\S+)", made.stdout)
    assert card_id is not None
    badge = card_id[1]

    # tap: the door reader reaches the personalised badge, by --store and by $HCEKIT_STORE
    door = hcekit("tap", "--only", "access", "--store", str(store), "access-door",
                  "-s", f"allow={badge}")
    assert door.returncode == 0 and f"GRANT {badge}" in door.stdout, door.stdout + door.stderr
    door = hcekit("tap", "--only", "access", "access-door", "-s", f"allow={badge}",
                  env={"HCEKIT_STORE": str(store)})
    assert door.returncode == 0 and f"GRANT {badge}" in door.stdout, door.stdout + door.stderr
    throwaway = hcekit("tap", "--only", "access", "--store", ":memory:", "access-door",
                       "-s", f"allow={badge}")
    assert throwaway.returncode == 1 and "DENY" in throwaway.stdout  # a fresh TEST badge

    # send: the CHUID carries the badge's UUID
    sent = hcekit("send", "--only", "access", PIV_SELECT, PIV_GET_CHUID,
                  env={"HCEKIT_STORE": str(store)})
    assert sent.returncode == 0, sent.stderr
    uuid_hex = " ".join(re.findall("..", badge.replace("-", "").upper()))
    assert f"34 10 {uuid_hex}" in sent.stdout

    # replay: the recorded answers are this card's answers, not a fresh card's
    trace = tmp_path / "chuid.trace"
    trace.write_text(trace_of(sent.stdout))
    same = hcekit("replay", "--only", "access", "--store", str(store), str(trace))
    assert same.returncode == 0, same.stdout + same.stderr
    assert "2 matched, 0 differ" in same.stdout
    fresh = hcekit("replay", "--only", "access", "--store", ":memory:", str(trace))
    assert fresh.returncode == 1 and "1 matched, 1 differ" in fresh.stdout, fresh.stdout


def test_loyalty_pass_personalise_tap_send_replay_on_one_store(tmp_path: Path) -> None:
    store = tmp_path / "cards.sqlite"
    env = {"HCEKIT_STORE": str(store)}
    made = hcekit("loyalty", "personalize", "--store", str(store), "--member-id", "A-1234",
                  "--balance", "50")
    assert made.returncode == 0, made.stderr
    till = ("tap", "--only", "loyalty", "loyalty-till")
    earned = hcekit(*till, "-s", "op=earn", "-s", "points=12", env=env)
    assert earned.returncode == 0, earned.stdout + earned.stderr
    assert "Member ID: A-1234  balance: 50 points" in earned.stdout
    redeemed = hcekit(*till[:1], "--store", str(store), *till[1:], "-s", "op=redeem",
                      "-s", "points=2")
    assert redeemed.returncode == 0 and "balance 60" in redeemed.stdout, redeemed.stdout

    sent = hcekit("send", "--only", "loyalty", OSE_SELECT, env=env)
    assert sent.returncode == 0 and "(NO_ERROR)" in sent.stdout, sent.stdout + sent.stderr
    trace = tmp_path / "select.trace"
    trace.write_text(trace_of(sent.stdout))
    replayed = hcekit("replay", "--only", "loyalty", "--sw-only", str(trace), env=env)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr

    # send and replay really open this store: while someone else owns it they are refused
    owner = SqliteStore(store, owner="hcekit serve")
    try:
        for command in (("send", "--only", "loyalty", OSE_SELECT),
                        ("replay", "--only", "loyalty", "--sw-only", str(trace))):
            refused = hcekit(*command, env=env)
            assert refused.returncode == 1
            assert f"in use by process {os.getpid()} (hcekit serve)" in refused.stderr
    finally:
        owner.close()

    read = hcekit(*till, "-s", "op=read", env=env)
    assert read.returncode == 0, read.stdout + read.stderr
    assert "Member ID: A-1234  balance: 60 points" in read.stdout
    shown = hcekit("loyalty", "show", env=env)
    assert "member A-1234, balance 60 (ledger counter 2)" in shown.stdout, shown.stderr


def test_the_default_store_is_shared_and_private(tmp_path: Path) -> None:
    till = ("tap", "--only", "loyalty", "loyalty-till")
    assert hcekit(*till, "-s", "op=earn", "-s", "points=5").returncode == 0
    read = hcekit(*till, "-s", "op=read")
    assert "balance: 5 points" in read.stdout, read.stdout + read.stderr
    path = default_store()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_memory_is_the_explicit_throwaway(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    till = ["tap", "--only", "loyalty", "--store", ":memory:", "loyalty-till"]
    assert main([*till, "-s", "op=earn", "-s", "points=5"]) == 0
    assert main([*till, "-s", "op=read"]) == 0
    assert "balance: 0 points" in capsys.readouterr().out
    assert not default_store().parent.exists()


def test_an_explicit_store_in_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    store = tmp_path / "no" / "such" / "dir" / "s.sqlite"
    for command in (("send", "--store", str(store), "00A4040007D276000085010100"),
                    ("tap", "--store", str(store), "ndef-read"),
                    ("access", "personalize", "--store", str(store))):
        result = hcekit(*command)
        assert result.returncode == 1, command
        assert f"directory {store.parent} does not exist" in result.stderr, result.stderr
    result = hcekit("send", "00A4040007D276000085010100",
                    env={"HCEKIT_STORE": str(store)})  # $HCEKIT_STORE is explicit too
    assert result.returncode == 1 and "does not exist" in result.stderr
    assert not (tmp_path / "no").exists()


def test_listing_and_refused_commands_create_no_store_and_print_only_the_error() -> None:
    listed = hcekit("tap")
    assert listed.returncode == 0 and "loyalty-till" in listed.stdout
    assert listed.stderr == ""
    unknown = hcekit("tap", "no-such-script")
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines() == [
        unknown.stderr.splitlines()[0]] and "no terminal script named" in unknown.stderr
    bad_option = hcekit("tap", "ndef-read", "-s", "nope=1")
    assert bad_option.returncode == 2 and len(bad_option.stderr.splitlines()) == 1
    bad_apdu = hcekit("send", "00A404000AA000000476D0000111")  # Lc says 10, 9 bytes follow
    assert bad_apdu.returncode == 2
    assert bad_apdu.stderr.splitlines() == [
        "hcekit: error: APDU 1 (00A404000AA000000476D0000111): Lc=10 but only 9 data bytes "
        "follow; --raw sends it as it is"]
    shown = hcekit("access", "show")
    assert shown.returncode == 1 and "no store at" in shown.stderr + shown.stdout
    assert not default_store().parent.exists()


def test_demo_says_it_keeps_to_memory(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "never touches your cards" in text and "in-memory store" in text


@pytest.mark.parametrize("command", [["send"], ["tap"], ["replay"], ["serve"],
                                     ["android", "aid-xml"]])
def test_every_card_command_offers_the_same_store_option(
        command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--store PATH" in text
    assert "Default: $HCEKIT_STORE, else ~/.local/share/hcekit/store.sqlite" in text


def test_a_plugin_module_is_found_in_the_current_directory(tmp_path: Path) -> None:
    """send, plugins, check, fuzz and pytest --hce-check look modules up in the current
    directory the same way (the console scripts, which do not put it on sys.path)."""
    (tmp_path / "herecard.py").write_text(
        "from hcekit import Category, Claim, hookimpl\n"
        "class HereCard:\n"
        "    name = 'here'\n"
        "    @hookimpl\n"
        "    def hcekit_claims(self, plugin):\n"
        "        return [Claim(bytes.fromhex('F0484552450101'), Category.OTHER, 'here')]\n"
        "    @hookimpl\n"
        "    def hcekit_process(self, app, command):\n"
        "        return b'here'\n")
    sent = hcekit("send", "--no-installed", "--store", ":memory:", "--plugin",
                  "herecard:HereCard", "00A4040007F048455245010100", "00010000", cwd=tmp_path)
    assert sent.returncode == 0 and "68 65 72 65 90 00" in sent.stdout, sent.stderr
    listed = hcekit("plugins", "--plugin", "herecard:HereCard", cwd=tmp_path)
    assert "F0484552450101" in listed.stdout, listed.stderr
    checked = hcekit("check", "herecard:HereCard", "--check", "claims", cwd=tmp_path)
    assert "cannot import" not in checked.stdout + checked.stderr
    assert checked.returncode == 0, checked.stdout + checked.stderr
    fuzzed = hcekit("fuzz", "--runs", "20", "--engine", "random", "herecard:HereCard",
                    cwd=tmp_path)
    assert fuzzed.returncode == 0 and "herecard:HereCard: 20 inputs" in fuzzed.stdout, \
        fuzzed.stdout + fuzzed.stderr
    pytest_exe = shutil.which("pytest", path=str(Path(sys.executable).parent))
    assert pytest_exe is not None, "pytest's console script is not installed here"
    hce_check = subprocess.run([pytest_exe, "-q", "-p", "no:cacheprovider", "--hce-check",
                                "herecard:HereCard", "--hce-check-only", "claims"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert hce_check.returncode == 0 and "1 passed" in hce_check.stdout, \
        hce_check.stdout + hce_check.stderr


def test_serve_never_puts_two_cards_on_one_store(tmp_path: Path) -> None:
    one = str(tmp_path / "one.sqlite")
    for stores in ([], ["--store", one], ["--store", one, "--store", one]):
        result = hcekit("serve", "--port", "35990", "--port", "35991", *stores)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "each" in result.stderr and "--store" in result.stderr
        assert result.stderr.count("\n") == 1
    assert not Path(one).exists() and not default_store().parent.exists()


def test_card_options_are_refused_with_a_reader(capsys: pytest.CaptureFixture[str]) -> None:
    """--store and --option shape the in-process card; with --reader they would do nothing."""
    for command in (["send", "--reader", "0", "--store", "x.sqlite", "00A4040000"],
                    ["tap", "--reader", "0", "--option", "ndef.url=https://x", "ndef-read"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "with --reader the card is the one in the reader" in err
    assert not default_store().parent.exists()


def test_a_card_that_never_starts_leaves_no_new_store(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    typo = hcekit("tap", "--store", str(store), "--option", "ndef.urll=https://x", "ndef-read")
    assert typo.returncode == 2 and "did you mean 'url'" in typo.stderr
    assert list(tmp_path.iterdir()) == []
