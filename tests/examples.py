"""How many examples a property test tries: what it asks for in the full run (.ci/run),
and no more than the quick profile's count in the quick loop
(``pytest -m "not slow" --hypothesis-profile=quick``), where a test's own wider count would
otherwise override the profile."""

from __future__ import annotations

from hypothesis import settings

QUICK = "quick"


def examples(wanted: int) -> int:
    if settings.get_current_profile_name() == QUICK:
        return min(wanted, settings.get_profile(QUICK).max_examples)
    return wanted
