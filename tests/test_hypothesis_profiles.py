"""Hypothesis runs under the profile HYPOTHESIS_PROFILE names: dev by default, ci in CI."""

from __future__ import annotations

import os

from hypothesis import settings


def test_the_profiles_are_registered() -> None:
    ci = settings.get_profile("ci")
    assert ci.derandomize
    assert ci.deadline is None
    assert ci.max_examples > settings.get_profile("default").max_examples
    assert not settings.get_profile("dev").derandomize


def test_the_environment_chooses_the_profile() -> None:
    chosen = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE") or "dev")
    assert settings.default.derandomize == chosen.derandomize
    assert settings.default.max_examples == chosen.max_examples
