"""The claims extension: encode/decode, strictness, OID."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.der import encoder
from pyasn1.type import char, univ

from enarx.identity import INSECURE_REASONS, OID_ENARX_CLAIMS, Claims, IdentityError

A, D, S = (hashlib.sha256(x).digest() for x in (b"a", b"d", b"s"))


def _claims(**kw: object) -> Claims:
    base: dict[str, object] = {"application_digest": A, "deployment_digest": D}
    base.update(kw)
    return Claims(**base)  # type: ignore[arg-type]


def test_oid_is_the_minted_uuid() -> None:
    assert OID_ENARX_CLAIMS.dotted_string == f"2.25.{uuid.UUID('779cbdcf-bfea-4763-b7e0-a0cb02117107').int}"


def test_vocabulary() -> None:
    assert INSECURE_REASONS == ("nil-backend", "host-stdio", "host-dirs", "raw-tcp", "http-steward", "tee-debug")


def test_round_trip() -> None:
    claims = _claims(slug="acme/pay:1.0.0", signer=S, insecure=frozenset({"raw-tcp", "host-stdio"}), apps=("pay",))
    der = claims.to_der()
    assert der[0] == 0x0C  # UTF8String
    assert Claims.from_der(der) == claims
    text = der[der.index(b"{"):].decode()  # after the tag and (long-form) length
    assert text.startswith('{"application_digest":"' + A.hex())
    assert '"insecure":["host-stdio","raw-tcp"]' in text


def test_from_extensions() -> None:
    claims = _claims()
    ext = x509.Extension(OID_ENARX_CLAIMS, False, claims.to_extension())
    assert Claims.from_extensions([ext]) == claims
    assert Claims.from_extensions([]) is None
    with pytest.raises(IdentityError) as info:
        Claims.from_extensions([x509.Extension(OID_ENARX_CLAIMS, True, claims.to_extension())])
    assert info.value.code == "claims.critical"
    with pytest.raises(IdentityError):
        Claims.from_extensions([ext, ext])


def _utf8(text: str) -> bytes:
    return bytes(encoder.encode(char.UTF8String(text)))


@pytest.mark.parametrize(
    ("der", "code"),
    [
        (b"\x04\x00", "claims.malformed"),  # OCTET STRING, not UTF8String
        (_utf8("not json"), "claims.malformed"),
        (_utf8("[]"), "claims.malformed"),
        (_utf8('{"version":2}'), "claims.version"),
        (_utf8('{"version":1,"extra":1}'), "claims.malformed"),
        (_utf8('{"application_digest":"00","deployment_digest":"00","version":1}'), "claims.application_digest"),
        (_utf8('{"application_digest":"' + A.hex() + '","deployment_digest":"' + D.hex() + '","insecure":["yolo"],"version":1}'), "claims.insecure"),
        (_utf8('{"application_digest":"' + A.hex() + '","apps":["Bad"],"deployment_digest":"' + D.hex() + '","version":1}'), "identity.app_name"),
        (_utf8('{"version":1,  "application_digest":"' + A.hex() + '","deployment_digest":"' + D.hex() + '"}'), "claims.malformed"),  # not canonical
        (_utf8("x" * 5000), "claims.malformed"),
        (bytes(encoder.encode(univ.Integer(1))), "claims.malformed"),
    ],
)
def test_decode_refuses(der: bytes, code: str) -> None:
    with pytest.raises(IdentityError) as info:
        Claims.from_der(der)
    assert info.value.code == code


def test_constructor_validates() -> None:
    with pytest.raises(IdentityError):
        _claims(apps=("a", "a"))
    with pytest.raises(IdentityError):
        _claims(apps=tuple(f"a{i}" for i in range(17)))
    with pytest.raises(IdentityError):
        _claims(slug="")
    with pytest.raises(IdentityError):
        _claims(signer=b"short")


_apps = st.lists(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True), max_size=4, unique=True)


@settings(max_examples=60)
@given(
    st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32),
    st.none() | st.text(min_size=1, max_size=40).filter(str.isprintable),
    st.none() | st.binary(min_size=32, max_size=32),
    st.frozensets(st.sampled_from(INSECURE_REASONS)), _apps,
)
def test_round_trip_property(a: bytes, d: bytes, slug: str | None, signer: bytes | None, insecure: frozenset[str], apps: list[str]) -> None:
    claims = Claims(a, d, slug=slug, signer=signer, insecure=insecure, apps=tuple(apps))
    der = claims.to_der()
    assert Claims.from_der(der) == claims
    assert Claims.from_der(der).to_der() == der
