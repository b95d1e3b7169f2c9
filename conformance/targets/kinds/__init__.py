"""The kinds of target a run can test, by the name `--target` takes. A new kind: a module here, one entry.

Named by import path and imported on use, so that pytest (which loads the plugin for every run)
pays for a kind only when a run asks for it.
"""

from __future__ import annotations

from importlib import import_module

from conformance.targets.kind import TargetKind

KINDS = {
    "sandbox": "conformance.targets.kinds.sandbox:SandboxKind",
    "live": "conformance.targets.kinds.live:LiveKind",
    "cassettes": "conformance.targets.kinds.cassettes:CassettesKind",
}
NAMES = tuple(KINDS)


def kind_named(name: str) -> TargetKind:
    """A fresh instance of the kind `name` (one of NAMES): a kind may keep state for one run."""
    module, _, cls = KINDS[name].partition(":")
    kind: TargetKind = getattr(import_module(module), cls)()
    return kind
