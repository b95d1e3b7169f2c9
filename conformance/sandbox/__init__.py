"""The embedded reference sandbox: an ASGI app that answers like the documented Live Activities API.

Every status, code, limit and body shape it uses is read from the contract, and every key, insider
and device from a target profile. Where the docs leave a choice open it does what behaviour.yaml's
`sandbox_choice` says, and a `SandboxConfig` can change what the docs do not fix (messages, check
precedence, limits, the option of each of behaviour.yaml's `readings`, a clock offset, network
latency), so a differently configured sandbox can check the suite asserts only what is documented.
"""

from typing import TYPE_CHECKING

from conformance.core.lazy import public_names

if TYPE_CHECKING:
    from conformance.sandbox.assemble import Sandbox, build_sandbox
    from conformance.sandbox.config import SandboxConfig, default_messages
    from conformance.sandbox.control import ClockNotVirtualError, SandboxControl
    from conformance.sandbox.faults import Fault, JournalEntry
    from conformance.sandbox.state import ActivityView
    from conformance.sandbox.transport import BASE_URL

__all__ = [
    "BASE_URL",
    "ActivityView",
    "ClockNotVirtualError",
    "Fault",
    "JournalEntry",
    "Sandbox",
    "SandboxConfig",
    "SandboxControl",
    "build_sandbox",
    "default_messages",
]

# Each public name's module, imported on first use (`core/lazy.py`): the CLI's parser imports
# `sandbox/command.py`, not the sandbox.
__getattr__ = public_names(
    __name__,
    {
        "ActivityView": "conformance.sandbox.state",
        "BASE_URL": "conformance.sandbox.transport",
        "ClockNotVirtualError": "conformance.sandbox.control",
        "Fault": "conformance.sandbox.faults",
        "JournalEntry": "conformance.sandbox.faults",
        "Sandbox": "conformance.sandbox.assemble",
        "SandboxConfig": "conformance.sandbox.config",
        "SandboxControl": "conformance.sandbox.control",
        "build_sandbox": "conformance.sandbox.assemble",
        "default_messages": "conformance.sandbox.config",
    },
)
