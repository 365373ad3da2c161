"""``hcekit new plugin NAME``: a ready-to-publish plugin project from templates.

The templates (package data under ``templates/plugin``) are plain files with
``{{placeholder}}`` markers and a ``.tmpl`` suffix; a directory named
``__module__`` becomes the import package. The generated project passes its
own tests and ``hcekit check NAME`` as generated.
"""

from __future__ import annotations

import hashlib
import re
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from ..aid import Claim
from ..errors import HcekitError

__all__ = ["ScaffoldError", "new_plugin", "plugin_placeholders", "derive_aid"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SUFFIX = ".tmpl"
_RENAMES = {"gitignore": ".gitignore"}


class ScaffoldError(HcekitError):
    """The plugin name, AID or target directory cannot be used (the message says why)."""


def derive_aid(name: str) -> bytes:
    """A stable proprietary AID for *name*: ``F0`` (RID category F, unregistered) + 6 bytes."""
    return b"\xf0" + hashlib.sha256(f"hcekit plugin {name}".encode()).digest()[:6]


def plugin_placeholders(name: str, aid: bytes | None = None) -> dict[str, str]:
    """The values substituted into the templates."""
    if not _NAME.match(name):
        raise ScaffoldError(
            f"plugin name {name!r}: use lower-case letters, digits and '_', starting with a "
            f"letter (it becomes the entry-point name, the store namespace and hcekit_{name})")
    aid = aid if aid is not None else derive_aid(name)
    Claim(aid)  # validates the length with Android's rules
    from .. import __version__

    words = name.split("_")
    select = bytes((0x00, 0xA4, 0x04, 0x00, len(aid))) + aid + b"\x00"
    return {
        "name": name,
        "module": f"hcekit_{name}",
        "dist": f"hcekit-{name.replace('_', '-')}",
        "class_name": "".join(w.capitalize() for w in words) + "Card",
        "title": " ".join(w.capitalize() for w in words) + " card",
        "aid": aid.hex().upper(),
        "aid_spaced": aid.hex(" ").upper(),
        "aid_len": f"{len(aid):02X}",
        "select_hex": select.hex().upper(),
        "hcekit_version": __version__,
    }


def _refuse_taken(name: str, module: str) -> None:
    """An installed plugin of that name, or an importable module, would shadow or clash."""
    from importlib.metadata import entry_points
    from importlib.util import find_spec

    from ..plugins import ENTRY_POINT_GROUP

    if any(ep.name == name for ep in entry_points(group=ENTRY_POINT_GROUP)):
        raise ScaffoldError(f"a plugin named {name!r} is already installed; choose another name")
    try:
        taken = find_spec(module) is not None
    except (ImportError, ValueError):
        taken = False
    if taken:
        raise ScaffoldError(f"a module named {module!r} is already importable; choose another name")


def _refuse_overlap(name: str, aid: bytes) -> None:
    """An AID another installed plugin (or the core's PPSE) routes would fail ``hcekit check``
    and stop every card holding both: refuse it before a project is written around it."""
    from ..conformance.checks import installed_claims

    mine = Claim(aid)
    taken = [f"{owner} claims {claim.filter}" for owner, claim in installed_claims(exclude=name)
             if claim.overlaps(mine)]
    if taken:
        raise ScaffoldError(f"AID {mine.filter} overlaps what is installed ({'; '.join(taken)}); "
                            "choose another --aid, or leave it out for one derived from the name")


def _render(text: str, values: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise ScaffoldError(f"template placeholder {{{{{key}}}}} has no value")
        return values[key]

    return re.sub(r"\{\{(\w+)\}\}", sub, text)


def _walk(node: Traversable, rel: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    out: list[tuple[tuple[str, ...], str]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.is_dir():
            if child.name != "__pycache__":
                out.extend(_walk(child, (*rel, child.name)))
        elif child.name.endswith(_SUFFIX):
            out.append(((*rel, child.name), child.read_text(encoding="utf-8")))
    return out


def new_plugin(name: str, parent: str | Path = ".", *, aid: bytes | None = None,
               force: bool = False) -> Path:
    """Write the project for plugin *name* into ``parent/hcekit-NAME``; return its path."""
    values = plugin_placeholders(name, aid)
    _refuse_taken(name, values["module"])
    _refuse_overlap(name, bytes.fromhex(values["aid"]))
    target = Path(parent) / values["dist"]
    if target.exists() and any(target.iterdir()) and not force:
        raise ScaffoldError(f"{target} exists and is not empty (use --force to write into it)")
    templates = files(__package__).joinpath("templates", "plugin")
    for rel, text in _walk(templates):
        parts = [values["module"] if p == "__module__" else p for p in rel]
        parts[-1] = parts[-1].removesuffix(_SUFFIX)
        parts[-1] = _RENAMES.get(parts[-1], parts[-1])
        path = target.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_render(text, values), encoding="utf-8")
    return target
