"""The suite's Hypothesis profiles, chosen with Hypothesis's own `--hypothesis-profile`.

Registered only in a session that runs the suite (and by the project's self-tests, which run the
suite's strategies), so that someone else's property tests never see them.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from conformance.plugin.options import HYPOTHESIS_PROFILES


def register_hypothesis_profiles() -> None:
    """The suite's Hypothesis profiles (`conformance.plugin.options.HYPOTHESIS_PROFILES`).

    Strategies are composed from the contract; examples are requests to a target, so no deadline.
    """
    suppressed = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
    dev, ci, nightly = HYPOTHESIS_PROFILES
    settings.register_profile(dev, max_examples=10, deadline=None, suppress_health_check=suppressed)
    settings.register_profile(
        ci,
        max_examples=15,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=suppressed,
        print_blob=False,
    )
    settings.register_profile(nightly, max_examples=200, deadline=None, suppress_health_check=suppressed)
