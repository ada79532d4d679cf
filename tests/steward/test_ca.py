"""CA creation, loading and the workload profile."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from enarx.steward.ca import BACKDATE, init_ca, issue_workload_certificate, load_ca
from enarx.steward.errors import StewardError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("curve", "digest"), [("p256", hashes.SHA256), ("p384", hashes.SHA384)])
def test_init_writes_keys_0600_and_loads(tmp_path: Path, curve: str, digest: type) -> None:
    ca = init_ca(tmp_path, now=NOW, curve=curve)  # type: ignore[arg-type]
    for name in ("root.key", "ca.key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ca.key", "ca.pem", "root.key", "root.pem"]
    loaded = load_ca(tmp_path)
    assert loaded.certificate == ca.certificate and loaded.root == ca.root
    assert isinstance(ca.certificate.signature_hash_algorithm, digest)
    ca.certificate.verify_directly_issued_by(ca.root)
    bc = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0


def test_init_never_overwrites_silently(tmp_path: Path) -> None:
    first = init_ca(tmp_path, now=NOW)
    with pytest.raises(StewardError) as info:
        init_ca(tmp_path, now=NOW)
    assert info.value.code == "ca.exists"
    assert load_ca(tmp_path).certificate == first.certificate
    second = init_ca(tmp_path, now=NOW, force=True)
    assert load_ca(tmp_path).certificate == second.certificate != first.certificate


def test_test_ca_is_marked_and_constrained(tmp_path: Path) -> None:
    ca = init_ca(tmp_path, now=NOW, test=True)
    assert "TEST ONLY" in ca.root.subject.rfc4514_string()
    nc = ca.certificate.extensions.get_extension_for_class(x509.NameConstraints)
    assert nc.critical and nc.value.permitted_subtrees == [x509.DNSName("enarx.test")]


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(StewardError) as info:
        load_ca(tmp_path)
    assert info.value.code == "ca.missing"
    init_ca(tmp_path / "a", now=NOW)
    init_ca(tmp_path / "b", now=NOW)
    (tmp_path / "a" / "ca.key").write_bytes((tmp_path / "b" / "ca.key").read_bytes())
    with pytest.raises(StewardError, match="does not match"):
        load_ca(tmp_path / "a")
    (tmp_path / "a" / "ca.key").write_text("garbage")
    with pytest.raises(StewardError) as info:
        load_ca(tmp_path / "a")
    assert info.value.code == "ca.invalid"


def test_workload_profile_without_names(tmp_path: Path) -> None:
    ca = init_ca(tmp_path, now=NOW)
    key = ec.generate_private_key(ec.SECP384R1()).public_key()
    cert = issue_workload_certificate(
        ca, public_key=key, subject=x509.Name([]), names=None, copy_extensions=[], now=NOW,
        validity=timedelta(hours=1), crl_url=None,
    )
    assert cert.not_valid_before_utc == NOW - BACKDATE and cert.not_valid_after_utc == NOW + timedelta(hours=1)
    oids = {e.oid for e in cert.extensions}
    assert x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME not in oids
    assert x509.oid.ExtensionOID.CRL_DISTRIBUTION_POINTS not in oids
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    serials = {
        issue_workload_certificate(ca, public_key=key, subject=x509.Name([]), names=None, copy_extensions=[], now=NOW,
                                   validity=timedelta(hours=1), crl_url=None).serial_number
        for _ in range(20)
    }
    assert len(serials) == 20 and all(0 < s < 1 << 128 for s in serials)


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1()])
def test_subject_key_identifier_from_the_sent_spki_is_cryptographys(tmp_path: Path, curve: ec.EllipticCurve) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    ca = init_ca(tmp_path / "ca", now=NOW, test=True)
    key = ec.generate_private_key(curve).public_key()
    spki = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)

    def issue(spki_der: bytes) -> x509.Certificate:
        return issue_workload_certificate(ca, public_key=key, subject=x509.Name([]), names=None, copy_extensions=[],
                                          now=NOW, validity=timedelta(hours=1), crl_url=None, spki_der=spki_der)

    fast, slow = issue(spki), issue(b"\x30\x00")  # unreadable: falls back to the key
    want = x509.SubjectKeyIdentifier.from_public_key(key)
    for cert in (fast, slow):
        assert cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value == want
