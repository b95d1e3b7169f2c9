"""JSON as RFC 8259 has it: no NaN or Infinity written or read, and no parse that can raise anything
but ValueError.

Python's json module writes `NaN` and `Infinity` and reads them back, so a file it wrote can be one
that strict parsers (browsers, jq, Go, Rust) reject. What we write for others (bundles, evidence)
goes through `dumps`; what we read from outside (a client's log, a bundle's manifest) through `loads`.
"""

from __future__ import annotations

import json
import math
from typing import Any


def dumps(data: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """`data` as JSON; ValueError when it holds a NaN or an infinity (a bug of ours, never written)."""
    return json.dumps(data, indent=indent, ensure_ascii=False, sort_keys=sort_keys, allow_nan=False)


def loads(text: str | bytes) -> Any:
    """Parsed `text`; ValueError for anything that is not strict JSON, a NaN or an infinity
    included (`NaN`, `Infinity`, or a number such as `1e999` that only an infinity could hold).

    Nesting deep enough to exhaust the recursion limit is a ValueError too, not a RecursionError.
    """
    try:
        return json.loads(text, parse_constant=_refuse, parse_float=_finite)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _finite(text: str) -> float:
    """A number too large for a float (`1e999`) would read as infinity: refused like `Infinity`."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of the range of a float")
    return value


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON (RFC 8259 has no NaN or Infinity)")
