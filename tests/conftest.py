"""The project's own tests draw as a suite run does: deterministic, under the suite's default profile.

The plugin no longer does this for them: it stays inert in any session that does not run the suite
(tests/self/test_plugin_inert.py), and this session runs the self-tests, not the suite.
"""

from hypothesis import settings

from conformance.generate.determinism import ignore_local_constants
from conformance.plugin.hypothesis_profiles import register_hypothesis_profiles
from conformance.plugin.options import DEFAULT_HYPOTHESIS_PROFILE

register_hypothesis_profiles()
settings.load_profile(DEFAULT_HYPOTHESIS_PROFILE)
ignore_local_constants()
