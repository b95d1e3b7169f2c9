"""Judging an answer: checks, failures, the results file, coverage and whether a green is earned."""
