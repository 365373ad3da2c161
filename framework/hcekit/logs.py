"""Loggers that import :mod:`logging` when first used.

``logging`` and what it imports (``traceback``, ``threading``, ``string``…)
cost a cold start several milliseconds, while a card answering its first tap
normally logs nothing. A module of the card path takes its logger from
:func:`get_logger`; ``logging`` is imported the first time the logger is
asked for anything. The logger is the ordinary named one
(``logging.getLogger(name)``): configuration, handlers and ``caplog`` see no
difference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import logging

__all__ = ["get_logger"]


class _Deferred:
    __slots__ = ("_logger", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: logging.Logger | None = None

    def __getattr__(self, attr: str) -> Any:
        logger = self._logger
        if logger is None:
            import logging

            logger = self._logger = logging.getLogger(self._name)
        return getattr(logger, attr)

    def __repr__(self) -> str:
        return f"<logger {self._name} (deferred)>"


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)``, resolved at its first use."""
    return cast("logging.Logger", _Deferred(name))
