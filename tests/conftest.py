"""Suite-wide settings.

Hypothesis' per-example deadline (200 ms) measures wall-clock time, which a
busy 2-core CI machine does not guarantee; tests never assert on time, so the
deadline is off. ``HYPOTHESIS_PROFILE=thorough`` runs more examples.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
