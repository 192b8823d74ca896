"""Full-text search over the catalog's `texts` table: a tantivy index kept in step with the live
snapshot (catalog/fulltext/index.py), queried in any script (catalog/fulltext/search.py)."""
