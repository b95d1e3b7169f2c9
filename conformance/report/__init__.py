"""Reports on results files: `conformance drift BASELINE CURRENT` compares two runs.

`drift` computes the comparison as data; `markdown`, `html` and `serialize` render it; `command`
reads the files, writes the chosen rendering atomically and decides the exit status.
"""
