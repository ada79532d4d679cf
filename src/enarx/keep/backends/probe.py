"""Checks shared by the configfs-tsm backends (what ``enarx platform info`` shows)."""

from __future__ import annotations

from enarx.keep.backends.base import BackendError, Check
from enarx.keep.backends.configfs_tsm import HINT_MISSING, TsmClient


def tsm_root_check(client: TsmClient) -> Check:
    root = client.root
    if not client.fs.is_dir(root):
        return Check("configfs-tsm", False, f"{root} does not exist", hint=HINT_MISSING)
    return Check("configfs-tsm", True, str(root))


def provider_check(client: TsmClient, provider: str, what: str, *, probe: bool) -> Check:
    """Create and remove an empty report entry to read its provider (no report is generated)."""
    name = f"provider {provider}"
    if not probe:
        return Check(name, False, "not checked: no configfs-tsm", hint=f"run the Keep inside {what}")
    try:
        got = client.probe_provider()
    except BackendError as exc:
        return Check(name, False, exc.reason, hint=exc.hint)
    if got != provider:
        return Check(name, False, f"provider is {got!r}", hint=f"this guest is not {what}")
    return Check(name, True, got)
