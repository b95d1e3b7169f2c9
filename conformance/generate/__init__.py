"""Hypothesis strategies and the oracle, both derived from the contract alone."""
