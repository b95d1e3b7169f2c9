"""Make a derandomized run draw the same examples wherever it runs.

Hypothesis (6.131 on) mixes into its draws, now and then, constants it collects from the source of
every *local* module already imported: which modules those are depends on the target (a run
against the sandbox imports it, a replay from cassettes does not) and on the install (an editable
checkout is local, a wheel in site-packages is not). The same test and seed then draws different
examples, and a replay sends requests its cassette never recorded. The suite's strategies are built
from the contract, so those constants add nothing the contract does not already say.

Hypothesis has no setting for this; the pinned version (pyproject.toml) is the one this reaches
into, and tests/self/generate/test_determinism.py fails if an upgrade moves it.
"""

from __future__ import annotations

import hashlib

from hypothesis.internal.conjecture import providers
from hypothesis.internal.constants_ast import Constants


def ignore_local_constants() -> None:
    """From now on, draw no constant collected from the source of imported modules."""
    empty = Constants()
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE.cache.clear()  # pools already computed with the local constants


def seed_from_name(test: object) -> None:
    """Give a Hypothesis test (or state machine) a seed made of its module and name, where
    `derandomize` would take one from its source.

    A refactor that leaves what a test does unchanged (a renamed fixture, say) then leaves its
    examples unchanged too, and with them its verdicts and its cassette. Call it only where the run
    is derandomized: a seed also fixes the examples of a run that should explore.
    """
    name = f"{getattr(test, '__module__', '')}.{getattr(test, '__qualname__', '')}"
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:16])
    test._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]  # what hypothesis.seed() sets
