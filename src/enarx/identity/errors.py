"""Typed refusals of the identity package (digests, names, claims, peers)."""

from __future__ import annotations

from enarx.errors import FieldError


class IdentityError(FieldError):
    """A name, digest, claims extension or peer certificate is not what it must be.

    ``code`` is stable (``identity.app_name``, ``claims.malformed``, ``peer.name``...);
    ``field``/``got``/``expected`` say which part and how, when there is one.
    """

    code = "identity"
