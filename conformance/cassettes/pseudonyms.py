"""Keyed pseudonyms for the profile's insider ids and udids, in recordings of personal data.

The key (`LA_CASSETTE_PSEUDONYM_KEY`) is the user's; a cassette names it by a fingerprint only, so
that a replay with another key says so instead of failing on every request.
"""

from __future__ import annotations

import hashlib
import hmac

from conformance.profile.target_profile import replace_ids

PSEUDONYM_KEY_VARIABLE = "LA_CASSETTE_PSEUDONYM_KEY"


class Pseudonyms:
    """Stable keyed pseudonyms for the profile's insider ids and udids (live recordings only)."""

    def __init__(self, key: str, identifiers: tuple[str, ...]) -> None:
        self._map = {i: self.pseudonym(key, i) for i in identifiers}
        # Names the key without revealing it: a replay with another key is told so.
        self.fingerprint = hmac.new(key.encode(), b"pseudonym key", hashlib.sha256).hexdigest()[:16]

    @staticmethod
    def pseudonym(key: str, identifier: str) -> str:
        digest = hmac.new(key.encode(), identifier.encode(), hashlib.sha256).hexdigest()
        return f"pseudo-{digest[:16]}"

    def apply(self, text: str) -> str:
        return replace_ids(text, self._map)

    def identifiers(self) -> tuple[str, ...]:
        return tuple(self._map)
