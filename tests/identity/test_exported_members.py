"""The public facades stay in sync with their modules (as httpx's test_exported_members)."""

from __future__ import annotations

import enarx.identity
import enarx.steward


def test_identity_all_is_sorted_and_complete() -> None:
    names = enarx.identity.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    assert all(hasattr(enarx.identity, n) for n in names)
    public = {n for n in vars(enarx.identity) if not n.startswith("_") and n not in {"claims", "digests", "errors", "peer", "san", "annotations", "TYPE_CHECKING", "attach"}}
    assert public == set(names)


def test_steward_all_is_sorted_and_exists() -> None:
    names = enarx.steward.__all__
    assert names == sorted(names, key=lambda n: (not n[0].isupper(), n))
    assert all(hasattr(enarx.steward, n) for n in names)
