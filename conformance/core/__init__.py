"""The foundations: errors, clock, exchanged values, files, strict JSON, printable text.

They import nothing else of the package, so every layer may import them.
"""
