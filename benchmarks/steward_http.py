"""Steward attestations per second over HTTP, against the crypto limit, with p50/p99 latency.

    PYTHONPATH=src:. .venv/bin/python benchmarks/steward_http.py [--seconds 5] [--workers 2]

Starts `enarx steward serve` (uvicorn, ``--workers`` processes, SQLite WAL) twice: in
production mode with the vectors' policy at the vectors' fixed time (the Enarx SNP Milan CSR
and the SGX Xeon CSR), and in test mode (a nil CSR). For each CSR it posts ``application/pkcs10``
at concurrency 32 (keep-alive connections from a minimal asyncio client) for ``--seconds`` and reports attestations
per second and the latency percentiles.

The crypto limit, measured in the same run with the same number of processes as server
workers: the signature work one issuance cannot avoid or cache, done directly with
``cryptography`` -- the CSR self-signature, the evidence signatures (SNP: VCEK by the ASK,
RSA-PSS-4096; report by the VCEK, ECDSA P-384. SGX: PCK by its CA, QE report by the PCK, quote
by the attestation key, three ECDSA P-256 checks of the same cost as the real ones), and the
certificate signature (ECDSA P-256). Chains under the pinned vendor roots, CRLs and TCB info are
cached by the verifier and left out. Target for SNP: ratio >= 0.6. The client runs on the same
machine and takes its share of the CPU, which the ratio does not correct for.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from _common import free_port  # run as a script: benchmarks/ is on sys.path
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = 32


def vectors() -> Path:
    return Path(os.environ.get("ENARX_VECTORS", ROOT.parent / "shared" / "vectors"))



def start(workdir: Path, toml: str, *, test: bool, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    from enarx.steward.ca import init_ca

    init_ca(workdir / "ca", now=datetime(2023, 1, 1, tzinfo=UTC), test=test)
    (workdir / "steward.toml").write_text(
        toml + f'\n[server]\nhost = "127.0.0.1"\nworkers = {workers}\nsqlite_synchronous = "NORMAL"\n'
    )
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "STEWARD_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from enarx.cli.main import main; sys.exit(main(sys.argv[1:]))",
         "steward", "serve", "--config", str(workdir / "steward.toml")],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return proc, port
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("steward did not start")


async def drive(port: int, csr: bytes, seconds: float) -> tuple[float, list[float], int]:
    """Keep-alive HTTP/1.1 connections posting ``csr``; a minimal client on purpose.

    httpx costs several ms of CPU a request here, more than the Steward's own work for a nil
    CSR, and the client shares the machine's two cores with the server: a load generator must
    be cheap (as wrk is). Responses are checked for status 200 and read to the byte.
    """
    latencies: list[float] = []
    errors = 0
    request = (
        b"POST / HTTP/1.1\r\nHost: steward\r\nContent-Type: application/pkcs10\r\n"
        b"Content-Length: %d\r\n\r\n" % len(csr) + csr
    )
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop:
            t = time.perf_counter()
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            length = next(int(x.split(b":")[1]) for x in lines if x.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t)
            if not lines[0].startswith(b"HTTP/1.1 200"):
                errors += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return len(latencies) / (time.perf_counter() - started), latencies, errors


# -- crypto limits ----------------------------------------------------------------------------

def _limit_fn(kind: str) -> Callable[[], None]:
    base = vectors()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name.from_rfc4514_string("CN=bench")
    now = datetime(2023, 2, 1, tzinfo=UTC)

    def sign_cert(public_key: ec.EllipticCurvePublicKey) -> None:
        (
            x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(ca_name).public_key(public_key)
            .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(hours=24))
            .sign(ca_key, hashes.SHA256())
        )

    if kind == "nil":
        from tests.steward.csrs import nil_csr

        der = nil_csr()

        def nil() -> None:
            csr = x509.load_der_x509_csr(der)
            assert csr.is_signature_valid
            sign_cert(csr.public_key())  # type: ignore[arg-type]

        return nil
    if kind == "snp":
        from enarx.attestation.csr import decode_snp_evidence, parse_enarx_csr
        from enarx.attestation.snp import Report
        from enarx.attestation.snp.certs import vendor_intermediates

        der = (base / "enarx-csr/milan.signed.crl.csr").read_bytes()
        evidence = decode_snp_evidence(parse_enarx_csr(der).evidence)
        vcek_der = evidence.vcek.public_bytes(__import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER)
        ask = next(c for c in vendor_intermediates() if c.subject.rfc4514_string().startswith("CN=SEV-Milan"))
        report = Report.from_bytes(evidence.report)
        signature = encode_dss_signature(report.signature_r, report.signature_s)

        def snp() -> None:
            csr = x509.load_der_x509_csr(der)
            assert csr.is_signature_valid
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # VCEK serial 0
                vcek = x509.load_der_x509_certificate(vcek_der)
            vcek.verify_directly_issued_by(ask)
            key = vcek.public_key()
            assert isinstance(key, ec.EllipticCurvePublicKey)
            key.verify(signature, evidence.report[:0x2A0], ec.ECDSA(hashes.SHA384()))
            sign_cert(csr.public_key())  # type: ignore[arg-type]

        return snp
    der = (base / "sgx/steward/icelake.signed.tcb.crl.multi.xeon.csr").read_bytes()
    key = ec.generate_private_key(ec.SECP256R1())
    message = os.urandom(432)
    sig = key.sign(message, ec.ECDSA(hashes.SHA256()))
    pub = key.public_key()

    def sgx() -> None:
        csr = x509.load_der_x509_csr(der)
        assert csr.is_signature_valid
        for _ in range(3):  # PCK by its CA, QE report by the PCK, quote by the attestation key
            pub.verify(sig, message, ec.ECDSA(hashes.SHA256()))
        sign_cert(csr.public_key())  # type: ignore[arg-type]

    return sgx


def _limit_worker(kind: str, seconds: float, out: multiprocessing.Queue[int]) -> None:
    sys.path.insert(0, str(ROOT))
    fn = _limit_fn(kind)
    fn()
    n, stop = 0, time.perf_counter() + seconds
    while time.perf_counter() < stop:
        fn()
        n += 1
    out.put(n)


def crypto_limit(kind: str, seconds: float, processes: int) -> float:
    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_limit_worker, args=(kind, seconds, queue)) for _ in range(processes)]
    for p in procs:
        p.start()
    total = sum(queue.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="alternating HTTP/limit slices per CSR")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    base = vectors()
    if not base.is_dir():
        print(f"vectors not found at {base}", file=sys.stderr)
        return 1
    from tests.steward.csrs import nil_csr

    policy = vectors().joinpath("enarx-csr/steward.toml").read_text().replace("[sgx]\n", "[sgx]\nrequire_qe_identity = false\n")
    cases = {
        "snp": ((base / "enarx-csr/milan.signed.crl.csr").read_bytes(), False),
        "sgx": ((base / "sgx/steward/icelake.signed.tcb.crl.multi.xeon.csr").read_bytes(), False),
        "nil": (nil_csr(), True),
    }
    with tempfile.TemporaryDirectory() as tmp:
        prod, prod_port = start(Path(tmp) / "prod", 'trust_domain = "steward.example"\nclock = 2023-02-01T00:00:00Z\n' + policy, test=False, workers=args.workers)
        test, test_port = start(Path(tmp) / "test", 'mode = "test"\n', test=True, workers=args.workers)
        try:
            print(f"concurrency {CONCURRENCY}, {args.workers} server workers, {os.cpu_count()} CPUs, {args.seconds:.0f} s each")
            for kind, (csr, is_test) in cases.items():
                port = test_port if is_test else prod_port
                asyncio.run(drive(port, csr, 0.5))  # warm up every worker's caches
                # Alternate HTTP and limit slices so both see the same (shared, noisy) machine.
                done, spent, lat, errors, limits = 0.0, 0.0, [], 0, []
                for _ in range(args.rounds):
                    rate, slice_lat, slice_errors = asyncio.run(drive(port, csr, args.seconds / args.rounds))
                    done += len(slice_lat)
                    spent += len(slice_lat) / rate
                    lat += slice_lat
                    errors += slice_errors
                    limits.append(crypto_limit(kind, args.seconds / args.rounds, args.workers))
                rate, limit = done / spent, statistics.mean(limits)
                q = statistics.quantiles(lat, n=100)
                target = " (target >= 0.6)" if kind == "snp" else ""
                print(
                    f"{kind}: {rate:7.1f} attestations/s over HTTP, p50 {q[49] * 1000:6.1f} ms, p99 {q[98] * 1000:6.1f} ms, "
                    f"{errors} errors; crypto limit {limit:7.1f}/s; ratio {rate / limit:.2f}{target}"
                )
        finally:
            for proc in (prod, test):
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
