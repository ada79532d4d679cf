"""Real Enarx CSRs (SNP Milan, SGX Xeon and i5) get certificates at the vectors' fixed time."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from enarx.steward.wire import (
    MEDIA_BUNDLE,
    MEDIA_PKCS10,
    decode_bundle_output,
    decode_pkipath,
    encode_bundle_request,
)
from tests.steward.conftest import VECTOR_NOW, StewardFactory
from tests.vectors import vector

pytestmark = pytest.mark.anyio

CSRS = {
    "snp": "enarx-csr/milan.signed.crl.csr",
    "sgx-xeon": "sgx/steward/icelake.signed.tcb.crl.multi.xeon.csr",
    "sgx-i5": "sgx/steward/icelake.signed.tcb.crl.single.i5.csr",
}


def _policy() -> str:
    # The vectors' own Steward policy under a clock override at 2023-02-01, plus one explicit
    # opt-in: Enarx's SGX evidence carries no QE identity, which our verifier otherwise requires.
    text = vector("enarx-csr/steward.toml").decode().replace("[sgx]\n", "[sgx]\nrequire_qe_identity = false\n")
    return "clock = 2023-02-01T00:00:00Z\n" + text


@pytest.mark.parametrize("name", sorted(CSRS))
async def test_canned_enarx_csr_gets_a_certificate(make_steward: StewardFactory, name: str) -> None:
    steward = make_steward(_policy(), mode="production")
    csr_der = vector(CSRS[name])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=steward.app), base_url="http://s") as c:
        r = await c.post("/", content=csr_der, headers={"content-type": MEDIA_PKCS10})
    assert r.status_code == 200, r.text
    root, intermediate, leaf = decode_pkipath(r.content)
    assert root == steward.ca.root
    csr = x509.load_der_x509_csr(csr_der)
    assert leaf.public_key() == csr.public_key()
    leaf.verify_directly_issued_by(intermediate)
    assert leaf.not_valid_before_utc < VECTOR_NOW < leaf.not_valid_after_utc
    record = steward.log.get(leaf.serial_number)
    assert record is not None and record.tee == name.split("-")[0]
    assert record.decision["mode"] == "production" and record.decision["insecure"] == []


async def test_bundle_of_all_three(make_steward: StewardFactory) -> None:
    steward = make_steward(_policy(), mode="production")
    body = encode_bundle_request([vector(p) for p in CSRS.values()])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=steward.app), base_url="http://s") as c:
        r = await c.post("/", content=body, headers={"content-type": MEDIA_BUNDLE})
    assert r.status_code == 200, r.text
    chain, issued = decode_bundle_output(r.content)
    assert len(chain) == 2 and len(issued) == 3


async def test_real_time_refuses_expired_collateral(make_steward: StewardFactory) -> None:
    # Without the clock override the 2023 CRLs are long expired: a 403 with the verifier's code.
    steward = make_steward(vector("enarx-csr/steward.toml").decode(), mode="production")
    steward.issuer._clock = lambda: datetime.now(VECTOR_NOW.tzinfo)  # real time for this one
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=steward.app), base_url="http://s") as c:
        r = await c.post("/v1/attest", content=vector(CSRS["snp"]), headers={"content-type": MEDIA_PKCS10})
    assert r.status_code == 403, r.text
    problem = r.json()
    assert problem["code"].startswith(("snp.", "crl.", "csr.", "collateral.")) and problem["detail"]


async def test_policy_mismatch_is_refused_with_reason(make_steward: StewardFactory) -> None:
    policy = _policy().replace("ff717ae7", "00717ae7")  # another SNP measurement
    steward = make_steward(policy, mode="production")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=steward.app), base_url="http://s") as c:
        r = await c.post("/v1/attest", content=vector(CSRS["snp"]), headers={"content-type": MEDIA_PKCS10})
    assert r.status_code == 403
    assert "measurement" in r.text


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
async def test_openssl_verifies_hostname(make_steward: StewardFactory, tmp_path: Path) -> None:
    """A stock client (openssl) accepts the issued certificate for its app and rejects another."""
    from tests.steward.csrs import claims, nil_csr

    steward = make_steward()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=steward.app), base_url="http://s") as c:
        r = await c.post("/", content=nil_csr(with_claims=claims(apps=("payments",))), headers={"content-type": MEDIA_PKCS10})
    root, intermediate, leaf = decode_pkipath(r.content)
    (tmp_path / "root.pem").write_bytes(root.public_bytes(Encoding.PEM))
    (tmp_path / "chain.pem").write_bytes(intermediate.public_bytes(Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(Encoding.PEM))
    attime = str(int(VECTOR_NOW.timestamp()))

    def verify(host: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["openssl", "verify", "-attime", attime, "-verify_hostname", host, "-purpose", "sslserver",
             "-CAfile", str(tmp_path / "root.pem"), "-untrusted", str(tmp_path / "chain.pem"), str(tmp_path / "leaf.pem")],
            capture_output=True, text=True, check=False,
        )

    ok = verify("payments.app.enarx.test")
    assert ok.returncode == 0 and "OK" in ok.stdout, ok.stderr
    bad = verify("ledger.app.enarx.test")
    assert bad.returncode != 0 and "hostname mismatch" in (bad.stdout + bad.stderr)
