"""The conformance suite users run: `conformance run`, or `pytest --pyargs conformance.suite`.

It ships inside the package so that a vendor who only `pip install`s the tool can run it.
"""
