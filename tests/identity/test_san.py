"""SAN grammar: encode, parse back, validate."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from enarx.identity import (
    IdentityError,
    WorkloadNames,
    adig_dns_name,
    app_dns_name,
    b32,
    ddig_dns_name,
    parse_dns_name,
    parse_spiffe_id,
    spiffe_id,
    validate_app_name,
    validate_trust_domain,
)
from enarx.identity.san import unb32

TD = "steward.example"


def test_b32_is_52_lowercase_chars() -> None:
    digest = hashlib.sha256(b"x").digest()
    text = b32(digest)
    assert len(text) == 52 and text == text.lower() and "=" not in text
    assert unb32(text) == digest


@settings(max_examples=50)
@given(st.binary(min_size=32, max_size=32))
def test_b32_round_trip(digest: bytes) -> None:
    assert unb32(b32(digest)) == digest


def test_names() -> None:
    d = hashlib.sha256(b"a").digest()
    assert app_dns_name("payments", TD) == "payments.app.steward.example"
    assert adig_dns_name(d, TD) == f"{b32(d)}.adig.steward.example"
    assert ddig_dns_name(d, TD) == f"{b32(d)}.ddig.steward.example"
    assert spiffe_id("payments", TD) == "spiffe://steward.example/app/payments"


@pytest.mark.parametrize("name", ["", "-a", "a-", "A", "a_b", "a.b", "x" * 64, "é"])
def test_bad_app_names(name: str) -> None:
    with pytest.raises(IdentityError) as info:
        validate_app_name(name)
    assert info.value.code == "identity.app_name"


@pytest.mark.parametrize("name", ["a", "a-b", "0", "x" * 63, "web-2"])
def test_good_app_names(name: str) -> None:
    assert validate_app_name(name) == name


@pytest.mark.parametrize("td", ["", "Steward.example", "a..b", ".a", "a_b.c", "a." + "b" * 64])
def test_bad_trust_domains(td: str) -> None:
    with pytest.raises(IdentityError):
        validate_trust_domain(td)


def test_parse_back() -> None:
    d = hashlib.sha256(b"d").digest()
    assert parse_dns_name("payments.app.steward.example", TD).app == "payments"  # type: ignore[union-attr]
    parsed = parse_dns_name(f"{b32(d)}.ddig.steward.example", TD)
    assert parsed is not None and parsed.kind == "ddig" and parsed.digest == d
    assert parse_dns_name("payments.app.other.example", TD) is None
    assert parse_dns_name("x.y.app.steward.example", TD) is None
    assert parse_dns_name("www.steward.example", TD) is None
    with pytest.raises(IdentityError):
        parse_dns_name("tooshort.adig.steward.example", TD)
    assert parse_spiffe_id("spiffe://steward.example/app/payments", TD) == "payments"
    assert parse_spiffe_id("spiffe://other/app/payments", TD) is None


def test_workload_names_round_trip_through_general_names() -> None:
    names = WorkloadNames(TD, ("payments", "ledger"), hashlib.sha256(b"a").digest(), hashlib.sha256(b"d").digest())
    general = [*names.general_names(), x509.DNSName("unrelated.example")]
    assert WorkloadNames.from_general_names(general, TD) == names


def test_workload_names_refuse_two_digests() -> None:
    a, b = hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()
    general = [x509.DNSName(adig_dns_name(a, TD)), x509.DNSName(adig_dns_name(b, TD))]
    with pytest.raises(IdentityError) as info:
        WorkloadNames.from_general_names(general, TD)
    assert info.value.code == "identity.san_conflict"
