"""The bundled demo site and the loopback server that serves it (tests/failure_site.py builds on
it)."""

from flows.demo.server import SITE_ROOT, SiteServer

__all__ = ["SITE_ROOT", "SiteServer"]
