"""Cassettes (VCR.py through pytest-recording): one per suite test, under `cassettes/<module>/<test>.yaml`.

A cassette is evidence of what was verified: every recorded request carries `x-conformance-*` tags
(`tags.py`), added when it is written, never sent. Live recordings hold pseudonyms of the profile's
ids (`pseudonyms.py`); VCR.py is configured to match on the JSON body and to keep no key
(`vcr.py`); a replay reads the tags back (`recorded.py`); a request a cassette lacks gets one
message with the fix (`messages.py`); `lint.py` finds anything that looks like a key or a real id.
"""
