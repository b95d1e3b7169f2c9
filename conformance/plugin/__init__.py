"""The pytest plugin: hooks and fixtures, options, progress, interrupts."""
