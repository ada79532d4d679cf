"""Parsed certificates and CRLs, remembered by their DER.

The same VCEKs, PCK chains and CRLs arrive again and again (one host, many Keeps), and
parsing them was a sizeable part of an issuance. A parsed object is handed out again for the
same bytes: they are immutable, and the same object also lets the verifiers' memos keyed by
object identity (names, verified links, CRL facts) hit. Bounded; forgets everything when full,
like the verifiers' other memos. Only successes are kept: bytes that do not parse are
refused every time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")

MAX_PARSED = 256
_parsed: dict[bytes, object] = {}


def parsed(der: bytes, kind: type[_T], load: Callable[[bytes], _T]) -> _T:
    """``load(der)``, or the object it returned before for the same bytes."""
    found = _parsed.get(der)
    if isinstance(found, kind):
        return found
    value = load(der)
    if len(_parsed) >= MAX_PARSED:
        _parsed.clear()
    _parsed[bytes(der)] = value
    return value
