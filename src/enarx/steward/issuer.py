"""From a CSR to a logged certificate: the Steward's procedure, with no HTTP in it.

For each CSR, in order (a bundle is checked completely before anything is signed):

1. parse it and check its self-signature (:func:`parse_enarx_csr`);
2. only the extensions we understand: evidence, claims, a subjectAltName request (an unknown
   or critical one could ask for something we would silently not enforce), within limits;
3. a CSR without evidence is refused (401, as Enarx's Steward);
4. verify the evidence against the vendor roots and the TEE policy at ``now``
   (:func:`verify_enarx_csr`) -- this also proves the CSR key is the one the TEE bound;
5. read the claims and the requested names; every requested name must be ours and agree with
   the claims (a Keep cannot ask for another deployment's digest);
6. map the deployment to applications and refuse insecure reasons (:func:`decide`);
7. sign the certificate (:func:`issue_workload_certificate`);
8. commit every record to the issuance log; only then may the caller answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from enarx._log import get_logger
from enarx.attestation.csr import EvidenceCsr, parse_enarx_csr, verify_enarx_csr
from enarx.attestation.errors import AttestationError, MalformedEvidence
from enarx.attestation.options import Collateral, VerifyOptions
from enarx.attestation.verdict import Verdict
from enarx.identity.claims import OID_ENARX_CLAIMS, Claims
from enarx.identity.errors import IdentityError
from enarx.identity.san import WorkloadNames
from enarx.steward.ca import CertificateAuthority, issue_workload_certificate
from enarx.steward.errors import StewardError
from enarx.steward.log import IssuanceLog, IssuanceRecord
from enarx.steward.policy import Decision, StewardPolicy, decide

log = get_logger("enarx.steward")

SAN_OID = x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME.dotted_string
# Besides the one evidence extension the verifier recognised (whatever the TEE): the claims,
# and a request for names.
ALLOWED_EXTENSIONS = frozenset({OID_ENARX_CLAIMS.dotted_string, SAN_OID})
MAX_EXTENSIONS = 8  # evidence + claims + SAN; anything above is not from a runtime
MAX_SAN_NAMES = 2 * 16 + 2  # apps as DNS + SPIFFE, and the two digests
ALLOWED_CURVES = ("secp256r1", "secp384r1")  # what Enarx Keeps generate (P-256 SGX/KVM, P-384 SNP)


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    record: IssuanceRecord
    verdict: Verdict
    claims: Claims | None
    decision: Decision

    def to_json(self) -> dict[str, object]:
        return {
            "serial": format(self.certificate.serial_number, "x"),
            "not_before": self.certificate.not_valid_before_utc.isoformat(),
            "not_after": self.certificate.not_valid_after_utc.isoformat(),
            "names": {
                "dns": self.decision.names.dns_names() if self.decision.names else [],
                "uri": self.decision.names.uris() if self.decision.names else [],
            },
            "claims": self.claims.to_json() if self.claims else None,
            "decision": self.decision.to_json(),
            "verdict": self.verdict.to_json(),
        }


@dataclass(frozen=True)
class _Checked:
    csr: EvidenceCsr
    verdict: Verdict
    claims: Claims | None
    decision: Decision
    public_key: ec.EllipticCurvePublicKey


class Issuer:
    """Verifies CSRs and issues certificates under one policy, CA and log."""

    def __init__(
        self,
        *,
        policy: StewardPolicy,
        ca: CertificateAuthority,
        log: IssuanceLog,
        clock: Callable[[], datetime],
        crl_url: str | None,
    ) -> None:
        self.policy = policy
        self.ca = ca
        self.log = log
        self.crl_url = crl_url
        self._clock = clock

    def now(self) -> datetime:
        return self.policy.clock or self._clock()

    def issue(self, csrs: Sequence[bytes]) -> list[Issued]:
        """Issue for every CSR or for none; records are committed before this returns."""
        issued = self.prepare(csrs)
        self.commit(issued)
        return issued

    def commit(self, issued: Sequence[Issued]) -> None:
        """Step 8: log every record in one transaction. Nothing may be sent before this returns."""
        self.log.record([i.record for i in issued])

    def prepare(self, csrs: Sequence[bytes]) -> list[Issued]:
        """Steps 1-7: verify every CSR, then sign; nothing is logged (see :meth:`commit`)."""
        now = self.now()
        checked = [self._check(der, now) for der in csrs]
        issued: list[Issued] = []
        for item in checked:
            cert_claims = item.claims
            extensions: list[x509.ExtensionType] = []
            if cert_claims is not None:
                # The certificate carries the claims as granted: the apps it names and every
                # insecure reason, including those the Steward found itself (nil, debug).
                cert_claims = replace(
                    cert_claims,
                    insecure=frozenset(item.decision.insecure),
                    apps=item.decision.names.apps if item.decision.names else (),
                )
                extensions.append(cert_claims.to_extension())
            if item.verdict.tee == "nil" and item.csr.evidence_oid is not None:
                # As Enarx's Steward: the KVM marker stays in the certificate, so any relying
                # party can see that nothing attested this key.
                extensions.append(x509.UnrecognizedExtension(x509.ObjectIdentifier(item.csr.evidence_oid), b""))
            cert = issue_workload_certificate(
                self.ca,
                public_key=item.public_key,
                subject=item.csr.csr.subject,
                names=item.decision.names,
                copy_extensions=extensions,
                now=now,
                validity=self.policy.validity,
                crl_url=self.crl_url,
                spki_der=item.csr.spki_der,
            )
            record = IssuanceRecord(
                serial=cert.serial_number,
                issued_at=now,
                not_after=cert.not_valid_after_utc,
                tee=item.verdict.tee,
                apps=item.decision.names.apps if item.decision.names else (),
                claims=cert_claims.to_json() if cert_claims else None,
                evidence_digest=hashlib.sha256(item.csr.evidence).hexdigest(),
                decision={
                    "mode": self.policy.mode,
                    **item.decision.to_json(),
                    "tee": item.verdict.tee,
                    "measurement": item.verdict.measurement.hex(),
                    "tcb_status": item.verdict.tcb_status,
                    "debug": item.verdict.debug,
                },
                certificate_pem=cert.public_bytes(Encoding.PEM).decode("ascii"),
            )
            issued.append(Issued(cert, record, item.verdict, cert_claims, item.decision))
        return issued

    def _check(self, der: bytes, now: datetime) -> _Checked:
        # 1. Parse; the CSR's self-signature is checked here.
        try:
            ecsr = parse_enarx_csr(der)
        except AttestationError as exc:
            raise _from_attestation(exc, 400) from exc
        except ValueError as exc:  # hostile input the parser did not anticipate is still input
            raise StewardError("csr.malformed", f"not a PKCS#10 CSR: {exc}", field="body") from exc
        csr = ecsr.csr
        # 2. Extensions we understand, within limits.
        exts = list(csr.extensions)
        if len(exts) > MAX_EXTENSIONS:
            raise StewardError(
                "csr.extensions", f"CSR has {len(exts)} extensions, limit {MAX_EXTENSIONS}",
                field="extensions", expected=MAX_EXTENSIONS, got=len(exts),
            )
        for ext in exts:
            oid = ext.oid.dotted_string
            if oid not in ALLOWED_EXTENSIONS and oid != ecsr.evidence_oid:
                raise StewardError(
                    "csr.extension", f"CSR requests extension {oid}, which a Steward does not grant",
                    field="extensions", got=oid,
                )
            if ext.critical and oid != SAN_OID:
                raise StewardError("csr.extension_critical", f"extension {oid} must not be critical", field="extensions", got=oid)
        public_key = csr.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name not in ALLOWED_CURVES:
            raise StewardError(
                "csr.key", "the CSR key must be EC P-256 or P-384", field="public_key",
                expected="P-256, P-384", got=getattr(getattr(public_key, "curve", None), "name", type(public_key).__name__),
            )
        # 3. Evidence is the authentication.
        if ecsr.evidence_oid is None:
            raise StewardError("evidence.missing", "the CSR carries no attestation evidence", status=401, field="evidence")
        # 4. Verify the evidence (and its binding to the CSR key) under the TEE policy.
        try:
            options = VerifyOptions(
                now=now, extra_roots=self.policy.extra_roots,
                collateral=Collateral(certificates=self.policy.extra_intermediates),
            )
            verified = verify_enarx_csr(ecsr, options=options, policy=self.policy.attestation)
        except AttestationError as exc:
            raise _from_attestation(exc, 400 if isinstance(exc, MalformedEvidence) else 403) from exc
        verdict = verified.verdict
        # 5. Claims and requested names.
        try:
            claims = Claims.from_extensions(exts)
            requested = self._requested_apps(exts, claims)
        except IdentityError as exc:
            raise StewardError(exc.code, exc.message, field=exc.field, expected=exc.expected, got=exc.got) from exc
        if claims is not None and requested:
            claims = replace(claims, apps=tuple(dict.fromkeys((*claims.apps, *requested))))
        # 6. Policy: applications and insecure reasons.
        decision = decide(self.policy, claims, tee=verdict.tee, debug=verdict.debug)
        return _Checked(ecsr, verdict, claims, decision, public_key)

    def _requested_apps(self, exts: Sequence[x509.Extension[x509.ExtensionType]], claims: Claims | None) -> tuple[str, ...]:
        san = next((e.value for e in exts if isinstance(e.value, x509.SubjectAlternativeName)), None)
        if san is None:
            return ()
        if claims is None:
            raise IdentityError("csr.san", "a CSR may request names only together with claims", field="subjectAltName")
        general = list(san)
        if len(general) > MAX_SAN_NAMES:
            raise IdentityError("csr.san", f"CSR requests {len(general)} names, limit {MAX_SAN_NAMES}", field="subjectAltName")
        td = self.policy.trust_domain
        names = WorkloadNames.from_general_names(general, td)
        ours = set(WorkloadNames(td, names.apps, claims.application_digest, claims.deployment_digest).dns_names())
        ours |= set(WorkloadNames(td, names.apps).uris())
        for name in general:
            value = name.value if isinstance(name, x509.DNSName | x509.UniformResourceIdentifier) else None
            if value is None or value not in ours:
                raise IdentityError(
                    "csr.san", f"CSR requests a name this Steward does not issue: {value or name!r}",
                    field="subjectAltName", got=str(value or name),
                )
        return names.apps


def _from_attestation(exc: AttestationError, status: int) -> StewardError:
    """Carry the verifier's code, field, expected and got (already JSON-ready) into a refusal."""

    def one(e: AttestationError) -> StewardError:
        j = AttestationError.to_json(e)
        return StewardError(e.code, e.message, status=status, field=e.field, expected=j.get("expected"), got=j.get("got"))

    err = one(exc)
    violations = getattr(exc, "violations", ())
    if len(violations) > 1:
        err.violations = tuple(one(v) for v in violations)
    return err
