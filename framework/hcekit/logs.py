"""Loggers that import :mod:`logging` when first used.

``logging`` and what it imports (``traceback``, ``threading``, ``string``…)
cost a cold start several milliseconds, while a card answering its first tap
normally logs nothing. A module of the card path takes its logger from
:func:`get_logger`; ``logging`` is imported the first time the logger is
asked for anything. The logger is the ordinary named one
(``logging.getLogger(name)``): configuration, handlers and ``caplog`` see no
difference.

Until some code imports :mod:`logging`, nobody can have configured it: the
root logger's level is WARNING and a ``debug``/``info`` record would be
dropped, so such a call is dropped here without importing :mod:`logging`
(a plugin's "started" info line costs a cold start nothing).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import logging

__all__ = ["get_logger"]

#: Levels below logging's default (WARNING): dropped while logging was never imported.
_BELOW_DEFAULT = frozenset({"debug", "info"})


def _dropped(*args: object, **kwargs: object) -> None:
    """A ``debug``/``info`` call before anyone imported (and so configured) logging."""


class _Deferred:
    __slots__ = ("_logger", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: logging.Logger | None = None

    def __getattr__(self, attr: str) -> Any:
        logger = self._logger
        if logger is None:
            if attr in _BELOW_DEFAULT and "logging" not in sys.modules:
                return _dropped
            import logging

            logger = self._logger = logging.getLogger(self._name)
        return getattr(logger, attr)

    def __repr__(self) -> str:
        return f"<logger {self._name} (deferred)>"


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)``, resolved at its first use."""
    return cast("logging.Logger", _Deferred(name))
