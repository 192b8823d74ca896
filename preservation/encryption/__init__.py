"""Per-case encryption at rest: case keys, key holders and crypto-shredding (objects are
sealed by preservation/store/sealed_backend.py)."""
