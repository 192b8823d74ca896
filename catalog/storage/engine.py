"""DuckDB's engine alone, for the catalog's readers (catalog.duckdb and the analyst's `sql`).

The `duckdb` package is its C++ extension (`_duckdb`: connections, `execute`, `fetchall`, the
exceptions) wrapped in a Python layer of relations, expressions and Arrow sources that the
readers never use; importing that layer cost ~0.3 s of the ~0.7 s `bearwitness sql "SELECT 1"`
took on 2 shared cores, the extension alone ~0.05 s. The connections and the exception classes
are the same objects either way (`duckdb.connect is _duckdb.connect`), so a process that also
imports `duckdb` mixes the two freely.
"""

from __future__ import annotations

try:
    import _duckdb as engine
except ImportError:  # duckdb before 1.4, whose extension is `duckdb.duckdb`, under the package
    import duckdb as engine  # type: ignore[no-redef]  # the same connect, Error, IOException

__all__ = ["engine"]
