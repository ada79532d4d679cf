"""Production decisions end to end: a simulated SNP Keep (test-only AMD chain) with claims.

The Steward trusts the test-only ARK through ``extra_roots``; everything else is the
production path: binding, policy, application mapping, insecure refusals with their codes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from enarx.attestation.csr import encode_snp_evidence
from enarx.attestation.testing import TestOnlyAmdSignerBuilder
from enarx.identity import Claims, WorkloadNames
from tests.steward.conftest import StewardFactory
from tests.steward.csrs import APP_DIGEST, DEPLOY_DIGEST

pytestmark = pytest.mark.anyio
SNP_OID = "1.3.6.1.4.1.58270.1.3"


@pytest.fixture(scope="module")
def signer():  # type: ignore[no-untyped-def]
    return TestOnlyAmdSignerBuilder().build()


def snp_csr(signer, claims: Claims | None, *, bind: bool = True) -> bytes:  # type: ignore[no-untyped-def]
    key = ec.generate_private_key(ec.SECP384R1())
    spki = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    report_data = hashlib.sha384(spki).digest() + bytes(16) if bind else bytes(64)
    report = signer.signed_report(report_data=report_data)
    evidence = encode_snp_evidence(report, signer.vcek, [("https://kdsintf.amd.com/vcek/v1/Milan/crl", signer.crl())])
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])).add_extension(
        x509.UnrecognizedExtension(x509.ObjectIdentifier(SNP_OID), evidence), critical=False
    )
    if claims is not None:
        builder = builder.add_extension(claims.to_extension(), critical=False)
    return builder.sign(key, hashes.SHA384()).public_bytes(Encoding.DER)


POLICY = """
extra_roots = ["ark.pem"]

[applications.pay]
slugs = ["acme/pay"]
allow_insecure = ["host-stdio"]
"""


@pytest.fixture
def steward(make_steward: StewardFactory, signer, tmp_path: Path):  # type: ignore[no-untyped-def]
    # AMD's cert_chain shape: the ASK, then the ARK.
    (tmp_path / "ark.pem").write_bytes(signer.ask.public_bytes(Encoding.PEM) + signer.ark.public_bytes(Encoding.PEM))
    return make_steward(POLICY.replace("ark.pem", str(tmp_path / "ark.pem")), mode="production")


async def _post(steward, body: bytes) -> httpx.Response:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=steward.app), base_url="http://s") as c:
        return await c.post("/v1/attest", content=body, headers={"content-type": "application/pkcs10"})


def _claims(**kw: object) -> Claims:
    return Claims(application_digest=APP_DIGEST, deployment_digest=DEPLOY_DIGEST, **kw)  # type: ignore[arg-type]


async def test_attested_app_is_named(steward, signer) -> None:  # type: ignore[no-untyped-def]
    r = await _post(steward, snp_csr(signer, _claims(slug="acme/pay:1.2.3", insecure=frozenset({"host-stdio"}))))
    assert r.status_code == 200, r.text
    doc = r.json()
    leaf = x509.load_pem_x509_certificates(doc["certificate_chain"].encode())[0]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert WorkloadNames.from_general_names(san, "steward.example").apps == ("pay",)
    assert doc["verdict"]["tee"] == "snp" and doc["decision"]["insecure"] == ["host-stdio"]
    assert "pay.app.steward.example" in doc["names"]["dns"]


async def test_each_refused_insecure_reason_has_its_code(steward, signer) -> None:  # type: ignore[no-untyped-def]
    claims = _claims(slug="acme/pay:1.2.3", insecure=frozenset({"host-stdio", "raw-tcp", "host-dirs"}))
    r = await _post(steward, snp_csr(signer, claims))
    assert r.status_code == 403
    problem = r.json()
    assert problem["code"] == "insecure.host-dirs"
    assert [v["code"] for v in problem["violations"]] == ["insecure.host-dirs", "insecure.raw-tcp"]
    assert steward.log.count() == 0


async def test_unmatched_app_request_is_refused(steward, signer) -> None:  # type: ignore[no-untyped-def]
    r = await _post(steward, snp_csr(signer, _claims(slug="acme/pay:1.2.3", apps=("ledger",))))
    assert r.status_code == 403 and r.json()["code"] == "identity.app_not_allowed"


async def test_unbound_key_is_refused(steward, signer) -> None:  # type: ignore[no-untyped-def]
    r = await _post(steward, snp_csr(signer, _claims(slug="acme/pay:1.2.3"), bind=False))
    assert r.status_code == 403
    assert r.json()["field"] == "report_data"


async def test_without_extra_root_the_test_chain_is_refused(make_steward: StewardFactory, signer) -> None:  # type: ignore[no-untyped-def]
    steward = make_steward(mode="production")
    r = await _post(steward, snp_csr(signer, None))
    assert r.status_code == 403 and r.json()["code"].startswith("snp.")
