"""``enarx attest verify``: check TEE evidence against the vendors' roots and a policy.

Thin: it reads files, recognises what they hold, and calls :mod:`enarx.attestation`. Exit 0
only for accepted evidence; 3 (REFUSED) when verification or policy refuses it; 1 (ERROR) for
input that cannot be read or recognised.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from enarx.attestation import dcap
from enarx.attestation.csr import parse_enarx_csr, verify_enarx_csr
from enarx.attestation.errors import AttestationError, MalformedEvidence, PolicyViolation
from enarx.attestation.options import Collateral, VerifyOptions
from enarx.attestation.policy import AttestationPolicy
from enarx.attestation.snp.abi import REPORT_SIZE, SUPPORTED_VERSIONS
from enarx.attestation.snp.certs import load_der_certificate, load_pem_certificates
from enarx.attestation.snp.check import check_report
from enarx.attestation.snp.tsm import parse_cert_table, parse_tsm
from enarx.attestation.verdict import Verdict
from enarx.cli.environment import Environment
from enarx.cli.parser import RawDescriptionHelpFormatter
from enarx.cli.status import ExitStatus

DESCRIPTION = """\
Verify hardware evidence and print what it proves.

FILE is recognised by its content:
  - an Enarx Keep CSR (PEM or DER) carrying SNP, SGX, TDX or nil evidence;
  - a raw AMD SEV-SNP attestation report (1184 bytes, or its hex);
  - a configfs-tsm report directory (outblob, auxblob, provider), as under
    /sys/kernel/config/tsm/report/NAME;
  - a raw Intel SGX or TDX DCAP quote.

Collateral the evidence does not carry comes from --collateral files, also recognised by
content: certificates (PEM/DER: a VCEK, AMD's ASK/ARK, Intel's TCB signing chain), CRLs
(PEM/DER), a configfs-tsm auxblob, Intel PCS TCB info and QE identity JSON (exact bytes as
served). AMD's and Intel's roots are built in and pinned by fingerprint.

Evidence is checked at --at (default: now). Old evidence needs a time inside the validity of
its certificates and CRLs, e.g. --at 2023-02-01T00:00:00Z.

The policy (--policy, TOML; Steward's steward.toml works too) says what is acceptable:
  allow_nil = false
  [snp]  measurements = ["<hex>"], min_tcb = { microcode = 93 }, allow_debug = false
  [sgx]  mrenclave = ["<hex>"], accepted_tcb_statuses = ["UpToDate"]
  [tdx]  mrtd = ["<hex>"]
Without --policy the secure defaults apply (no debug, current TCB) but no measurement is
pinned: the command then tells you what runs, not that it is what you expect.

Exit status: 0 accepted; 3 refused (the code and reason are printed); 1 input that cannot be
read, is not evidence, or is malformed (its code is printed too).
"""

EPILOG = """\
examples:
  enarx attest verify keep.csr --policy steward.toml --at 2023-02-01T00:00:00Z
  enarx attest verify report.bin --collateral vcek.der --json
  enarx attest verify /sys/kernel/config/tsm/report/r0
  enarx attest verify quote.dat --collateral tcb_info.json --collateral qe_identity.json \\
      --collateral tcb_chain.pem --collateral pck.crl
"""

#: Evidence and collateral files are small (the largest real ones are ~15 KiB); a bigger file
#: is not evidence and is not read into memory.
MAX_INPUT_SIZE = 16 * 1024 * 1024


class InputError(Exception):
    """A file that cannot be read or recognised (exit 1)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], env: Environment) -> None:
    parser = sub.add_parser("attest", help="verify TEE evidence (SEV-SNP, SGX, TDX, Enarx CSRs)")
    group = parser.add_subparsers(dest="attest_command", metavar="SUBCOMMAND")
    group.required = True
    verify = group.add_parser(
        "verify",
        help="verify evidence against the vendors' roots and a policy",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=RawDescriptionHelpFormatter,
    )
    verify.add_argument("file", metavar="FILE", type=Path, help="evidence: CSR, SNP report, configfs-tsm directory or DCAP quote")
    collateral_default = [Path(p) for p in (env.getenv("ENARX_ATTEST_COLLATERAL") or "").split(os.pathsep) if p]
    verify.add_argument(
        "--collateral", metavar="FILE", type=Path, action="append", default=None,
        help="certificates, CRLs, auxblob or Intel PCS JSON the evidence does not carry; repeatable "
        "(env ENARX_ATTEST_COLLATERAL, paths separated by ':')",
    )
    verify.set_defaults(collateral_default=collateral_default)
    verify.add_argument(
        "--at", metavar="TIME", type=_parse_time, default=env.getenv("ENARX_ATTEST_AT"),
        help="verify as of this ISO 8601 time, e.g. 2023-02-01T00:00:00Z (env ENARX_ATTEST_AT; default: now)",
    )
    verify.add_argument(
        "--policy", metavar="FILE", type=Path, default=env.getenv("ENARX_ATTEST_POLICY"),
        help="policy TOML (env ENARX_ATTEST_POLICY; default: secure defaults, no measurement pinned)",
    )
    verify.add_argument("--json", action="store_true", help="print the verdict or the refusal as JSON")
    verify.set_defaults(handler=handle_verify)


def _parse_time(text: str | datetime) -> datetime:
    if isinstance(text, datetime):
        return text
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time such as 2023-02-01T00:00:00Z") from None
    # A time without a zone is read as UTC: attestation collateral is dated in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def handle_verify(args: argparse.Namespace, env: Environment) -> ExitStatus:
    try:
        now = _parse_time(args.at) if args.at is not None else env.clock()
    except argparse.ArgumentTypeError as exc:
        return _fail(args, env, "input.time", f"ENARX_ATTEST_AT: {exc}")
    try:
        policy = _load_policy(args.policy)
        collateral = _load_collateral(args.collateral if args.collateral is not None else args.collateral_default)
        options = VerifyOptions(now=now, collateral=collateral)
        kind, verdict = _verify(args.file, options, policy)
    except InputError as exc:
        return _fail(args, env, "input.unreadable", str(exc))
    except MalformedEvidence as exc:
        return _fail(args, env, exc.code, exc.message, error=exc)
    except AttestationError as exc:
        if exc.code == "policy.invalid":
            return _fail(args, env, exc.code, exc.message, error=exc)
        return _refused(args, env, exc)
    _accepted(args, env, kind, verdict, policy_pinned=args.policy is not None)
    return ExitStatus.OK


# --- reading ----------------------------------------------------------------------------------


def _read(path: Path, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_SIZE:
            raise InputError(f"{what} {path}: {size} bytes is too large to be evidence (limit {MAX_INPUT_SIZE})")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{what} {path}: {exc.strerror or exc}") from None


def _load_policy(path: Path | None) -> AttestationPolicy:
    if path is None:
        return AttestationPolicy()
    try:
        data = tomllib.loads(_read(Path(path), "policy").decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"policy {path}: not TOML: {exc}") from None
    try:
        return AttestationPolicy.from_mapping(data)
    except AttestationError as exc:
        raise AttestationError(exc.code, f"policy {path}: {exc.message}", field=exc.field, expected=exc.expected, got=exc.got) from None


def _load_collateral(paths: list[Path]) -> Collateral:
    certs: list[x509.Certificate] = []
    crls: list[x509.CertificateRevocationList] = []
    tcb_info = qe_identity = None
    tcb_chain: list[x509.Certificate] = []
    for path in paths:
        data = _read(path, "collateral")
        stripped = data.lstrip()
        if stripped.startswith(b"{"):
            if b'"tcbInfo"' in data[:64]:
                tcb_info = data
            elif b'"enclaveIdentity"' in data[:64]:
                qe_identity = data
            else:
                raise InputError(f"collateral {path}: JSON that is neither Intel TCB info nor QE identity")
        elif stripped.startswith(b"-----BEGIN"):
            found = _pem_collateral(path, data, crls)
            if any("TCB Signing" in _cn(c) for c in found):
                tcb_chain.extend(found)  # Intel's TCB info issuer chain (TCB Signing, Root CA)
            else:
                certs.extend(found)
        else:
            certs_or_crl = _der_collateral(path, data)
            if isinstance(certs_or_crl, x509.CertificateRevocationList):
                crls.append(certs_or_crl)
            else:
                certs.extend(certs_or_crl)
    return Collateral(
        certificates=tuple(certs),
        crls=tuple(crls),
        tcb_info=tcb_info,
        tcb_info_issuer_chain=tuple(tcb_chain),
        qe_identity=qe_identity,
    )


def _cn(cert: x509.Certificate) -> str:
    attrs = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def _pem_collateral(path: Path, data: bytes, crls: list[x509.CertificateRevocationList]) -> list[x509.Certificate]:
    found: list[x509.Certificate] = []
    if b"CERTIFICATE-----" in data:
        try:
            found = load_pem_certificates(data, what=f"collateral {path}")
        except MalformedEvidence as exc:
            raise InputError(exc.message) from None
    if b"X509 CRL-----" in data:
        for block in data.split(b"-----END X509 CRL-----")[:-1]:
            start = block.find(b"-----BEGIN X509 CRL-----")
            try:
                crls.append(x509.load_pem_x509_crl(block[start:] + b"-----END X509 CRL-----\n"))
            except (ValueError, x509.InvalidVersion) as exc:
                raise InputError(f"collateral {path}: bad PEM CRL: {exc}") from None
    if not found and b"X509 CRL-----" not in data:
        raise InputError(f"collateral {path}: PEM holds no certificate or CRL")
    return found


def _der_collateral(path: Path, data: bytes) -> list[x509.Certificate] | x509.CertificateRevocationList:
    try:
        return [load_der_certificate(data, what=f"collateral {path}")]
    except MalformedEvidence:
        pass
    try:
        return x509.load_der_x509_crl(data)
    except (ValueError, x509.InvalidVersion):
        pass
    try:  # a configfs-tsm auxblob: the host's certificate table
        entries = parse_cert_table(data)
        return [load_der_certificate(e.data, what=f"collateral {path} {e.name}") for e in entries if e.name in ("VCEK", "VLEK", "ASK", "ARK")]
    except MalformedEvidence:
        pass
    raise InputError(f"collateral {path}: not a certificate, CRL, auxblob or Intel PCS JSON")


# --- recognising and verifying ------------------------------------------------------------------


@dataclass(frozen=True)
class _Tsm:
    outblob: bytes
    auxblob: bytes
    provider: str


def _verify(path: Path, options: VerifyOptions, policy: AttestationPolicy) -> tuple[str, Verdict]:
    if path.is_dir():
        tsm = _read_tsm(path)
        if tsm.provider == "tdx_guest":
            return "configfs-tsm TDX quote", dcap.verify_tdx_quote(tsm.outblob, options=options, policy=policy.tdx)
        evidence = parse_tsm(tsm.outblob, tsm.auxblob)
        return "configfs-tsm SNP report", check_report(evidence.raw_report, options=options, policy=policy.snp, certificates=evidence.certificates)
    data = _read(path, "evidence")
    stripped = data.strip()
    if (stripped.startswith(b"-----BEGIN") and b"CERTIFICATE REQUEST-----" in stripped[:64]) or _looks_like_der(data):
        return "Enarx CSR", verify_enarx_csr(parse_enarx_csr(data), options=options, policy=policy).verdict
    if len(stripped) == 2 * REPORT_SIZE and _is_hex(stripped):
        data = bytes.fromhex(stripped.decode())
    if len(data) == REPORT_SIZE and struct.unpack_from("<I", data)[0] in SUPPORTED_VERSIONS:
        return "SEV-SNP report", check_report(data, options=options, policy=policy.snp)
    if len(data) >= 8 and struct.unpack_from("<H", data)[0] in (3, 4, 5):
        tee_type = struct.unpack_from("<I", data, 4)[0]
        if tee_type == 0x81:
            return "TDX quote", dcap.verify_tdx_quote(data, options=options, policy=policy.tdx)
        if tee_type == 0x00:
            return "SGX quote", dcap.verify_sgx_quote(data, options=options, policy=policy.sgx)
    raise InputError(f"evidence {path}: not an Enarx CSR, SNP report, configfs-tsm directory or DCAP quote")


def _looks_like_der(data: bytes) -> bool:
    # A DER SEQUENCE with a long-form length: CSRs are; SNP reports and quotes start otherwise.
    return len(data) > 4 and data[0] == 0x30 and data[1] in (0x81, 0x82, 0x83)


def _is_hex(data: bytes) -> bool:
    try:
        bytes.fromhex(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def _read_tsm(path: Path) -> _Tsm:
    outblob = path / "outblob"
    if not outblob.is_file():
        raise InputError(f"evidence {path}: a directory without an outblob is not a configfs-tsm report")
    auxblob = path / "auxblob"
    provider = path / "provider"
    return _Tsm(
        outblob=_read(outblob, "outblob"),
        auxblob=_read(auxblob, "auxblob") if auxblob.is_file() else b"",
        provider=_read(provider, "provider").decode(errors="replace").strip() if provider.is_file() else "sev_guest",
    )


# --- printing ---------------------------------------------------------------------------------


def _accepted(args: argparse.Namespace, env: Environment, kind: str, verdict: Verdict, *, policy_pinned: bool) -> None:
    if not policy_pinned and verdict.tee != "nil":
        print("note: no --policy given: no measurement was pinned; this shows what runs, not that it is what you expect", file=env.stderr)
    if args.json:
        print(json.dumps({"accepted": True, "evidence": kind, "verdict": verdict.to_json()}, indent=2, default=str), file=env.stdout)
        return
    out = env.stdout
    claims = verdict.claims

    def line(label: str, value: object) -> None:
        print(f"  {label + ':':<15}{value}", file=out)

    print(f"accepted: {kind} ({verdict.tee})", file=out)
    line("measurement", verdict.measurement.hex() or "-")
    line("report data", verdict.report_data.hex() or "-")
    line("debug", "yes" if verdict.debug else "no")
    if verdict.tee == "snp":
        signer = claims.get("signer")
        if isinstance(signer, dict):
            line("product", f"{signer.get('product')} (signed by {signer.get('kind')})")
        tcb = claims.get("tcb")
        if isinstance(tcb, dict):
            for which in ("reported", "committed", "current", "launch"):
                parts = tcb.get(which)
                if isinstance(parts, dict):
                    line(f"{which} tcb", " ".join(f"{k}={v}" for k, v in parts.items()))
        line("firmware", f"{claims.get('current_firmware')} (committed {claims.get('committed_firmware')})")
        line("crl checked", "yes" if claims.get("crl_checked") else "no")
    if verdict.tcb_status is not None:
        line("tcb status", verdict.tcb_status)
    if verdict.tee in ("sgx", "tdx"):
        line("advisories", ", ".join(verdict.advisories) or "none")


def _refused(args: argparse.Namespace, env: Environment, exc: AttestationError) -> ExitStatus:
    if args.json:
        print(json.dumps({"accepted": False, "error": exc.to_json()}, indent=2, default=str), file=env.stdout)
        return ExitStatus.REFUSED
    print(f"refused: {exc.code}: {exc.message}", file=env.stdout)
    if isinstance(exc, PolicyViolation) and len(exc.violations) > 1:
        for violation in exc.violations:
            print(f"  - {violation.code}: {violation.message}", file=env.stdout)
    return ExitStatus.REFUSED


def _fail(args: argparse.Namespace, env: Environment, code: str, message: str, *, error: AttestationError | None = None) -> ExitStatus:
    if args.json:
        body = error.to_json() if error is not None else {"code": code, "reason": message}
        print(json.dumps({"accepted": False, "error": body}, indent=2, default=str), file=env.stdout)
    else:
        print(f"enarx: error: {message} [{code}]", file=env.stderr)
    return ExitStatus.ERROR
