"""Suite-wide settings.

Hypothesis' per-example deadline (200 ms) measures wall-clock time, which a
busy 2-core CI machine does not guarantee; tests never assert on time, so the
deadline is off. ``HYPOTHESIS_PROFILE=thorough`` runs more examples.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _private_default_store(tmp_path_factory: pytest.TempPathFactory,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the user's cards: the default store lives in a temporary data home.

    Every command uses ``$HCEKIT_STORE`` or ``$XDG_DATA_HOME/hcekit/store.sqlite``
    by default; subprocesses inherit the variables.
    """
    monkeypatch.delenv("HCEKIT_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))
