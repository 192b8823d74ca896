"""Where the data lives and who acts: resolved once per command or flow run.

What a data home is (a local path, or `s3://bucket/prefix` with this machine's own part in a
local home) and how it is resolved: flows/application/data_home.py. Here, the store it holds
is opened, and who acts is named.

Every CLI command resolves its data home first, so this module imports the store, the object
storage client and the custody log only when they are asked for (an ad-hoc capture's command
line pays for none of them: the flow runs in the local server).
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING

from flows.application.data_home import (
    DEFAULT_HOME,
    LOCAL_HOME_VARIABLE,
    bound_location,
    resolve_home,
)
from preservation.store.backend import LocalDirectory, StoreBackend
from preservation.store.private_area import PrivateArea
from preservation.store.protections import CaseProtections

if TYPE_CHECKING:
    from preservation.custody.log import Actor
    from preservation.store.evidence_store import EvidenceStore
    from preservation.store.object_backend import ObjectStorageBackend

__all__ = ["DEFAULT_HOME", "LOCAL_HOME_VARIABLE", "actor", "bound_location",
           "case_protections", "default_actor_name", "open_store", "resolve_home"]


def open_store(home: Path) -> EvidenceStore:
    """The evidence store of a data home: its backend (the local folder, or the bucket the
    home belongs to), each case's protection (retention, encryption) over it."""
    from preservation.store.evidence_store import EvidenceStore
    from preservation.store.sealed_backend import SealedBackend

    root, private, base, objects = _backend(home)
    protections = CaseProtections(base)
    if objects is not None:
        objects.retention_for = protections.retention_for
    sealed = SealedBackend(base, private, protections)
    return EvidenceStore(root, sealed, objects=objects, private=private,
                         stored_form=sealed.stored_form)


def case_protections(home: Path) -> CaseProtections:
    """Each case's protection in the data home's store, read from its backend as
    `open_store`'s store reads it, without the rest of the store (`sql` asks only whether
    the cases it read are encrypted)."""
    return CaseProtections(_backend(home)[2])


def _backend(home: Path) -> tuple[Path, PrivateArea, StoreBackend, ObjectStorageBackend | None]:
    """The store's folder here, its private area, its backend, and the bucket, if any."""
    root = home / "store"
    root.mkdir(parents=True, exist_ok=True)
    location = bound_location(home)
    private = PrivateArea.for_dir(root / "tmp")
    if location is None:
        return root, private, LocalDirectory(root), None
    # boto3 only for a home in a bucket: a local one (and `sql`) need not import it.
    from preservation.store.object_backend import ObjectStorageBackend, make_client

    objects = ObjectStorageBackend(make_client(), location, private)
    return root, private, objects, objects


def default_actor_name() -> str:
    """The person or service acting: $BEARWITNESS_COLLECTOR, else the login name."""
    configured = os.environ.get("BEARWITNESS_COLLECTOR")
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def actor(name: str | None = None) -> Actor:
    """Who acts, with this bearwitness: as every custody event names them."""
    from preservation.custody.log import Actor
    from preservation.tool_versions import BEARWITNESS_VERSION

    return Actor(name=name or default_actor_name(), tool="bearwitness",
                 tool_version=BEARWITNESS_VERSION)
