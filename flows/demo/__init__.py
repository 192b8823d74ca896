"""The bundled demo site and the loopback server that serves it (also the test fixture site)."""

from flows.demo.server import SITE_ROOT, SiteServer

__all__ = ["SITE_ROOT", "SiteServer"]
