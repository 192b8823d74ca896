"""Per-case encryption at rest: case keys, key holders and crypto-shredding (the sealing of objects is preservation/store/sealed_backend.py)."""
