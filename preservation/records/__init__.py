"""The documents the evidence store keeps, as typed, frozen records.

Each record names its format and version (`format`, e.g. `bearwitness-capture/1`) and turns to
and from the JSON the store holds (`to_json` / `from_json`). Records written before the
records were typed read back unchanged: the fields and their JSON names are those of the
documents already stored (tests/test_stored_formats.py reads a store written by that code).
"""
