"""A missing test requirement: a visible skip on a developer machine, a failure in CI.

CI (``CI`` set in the environment) installs everything the suite needs
(``scripts/install-system-deps.sh``, the extras), so a missing tool there is a
broken install, never a reason to pass quietly.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["missing"]


def missing(reason: str) -> NoReturn:
    """Skip with *reason*, or fail with it when running in CI."""
    if os.environ.get("CI"):
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)
