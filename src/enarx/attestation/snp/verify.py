"""Is this SEV-SNP report signed by a genuine AMD chip, through AMD's chain, at ``now``?

Checks signatures, chains, revocation and the consistency of the endorsement key with the
report; no policy (that is :mod:`enarx.attestation.snp.validate`). The procedure, in order:

1. parse the report (:mod:`.abi`); the signature algorithm must be ECDSA P-384/SHA-384 and the
   report must say it is signed (SIGNING_KEY is VCEK or VLEK, not "none");
2. find the endorsement key certificate (VCEK or VLEK, as the report says) among the supplied
   certificates: the evidence's, then the host collateral's;
3. chain it to a pinned ARK through an ASK/ASVK (supplied, or AMD's own shipped in
   :mod:`._amd_certs`), each link checked and every certificate valid at ``now``;
4. revocation: every CRL signed by a chain issuer is checked, fail closed on a bad or stale one;
5. the report signature (r and s little-endian) over bytes [0, 0x2A0) with the key's P-384 key;
6. the key's product agrees with the root's and, from report v3, with the CPUID fields
   (prevents a Milan key vouching for a Genoa-layout TCB);
7. the key's TCB extensions equal REPORTED_TCB (the TCB AMD derived the key for; CURRENT_TCB
   may be newer: trustee's vector shows it) - a VCEK from an older TCB must not vouch for a
   report;
8. VCEK hwID equals CHIP_ID (unless the host masked CHIP_ID), binding the key to this chip.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from enarx.attestation.errors import MalformedEvidence, VerificationFailed
from enarx.attestation.options import VerifyOptions
from enarx.attestation.snp.abi import (
    SIG_ALGO_ECDSA_P384_SHA384,
    SIGNED_SIZE,
    SIGNING_KEY_VCEK,
    SIGNING_KEY_VLEK,
    Product,
    Report,
    TcbParts,
)
from enarx.attestation.snp.certs import (
    applicable_crls,
    build_chain,
    check_revocation,
    common_name,
    describe,
    vendor_arks,
    vendor_intermediates_likely_first,
)
from enarx.attestation.snp.keyinfo import AmdKeyInfo, amd_key_info, root_product


@dataclass(frozen=True)
class VerifiedReport:
    """A report whose signature, chain and key bindings verified at ``now``."""

    report: Report
    raw: bytes
    product: Product
    key: AmdKeyInfo
    chain: tuple[x509.Certificate, ...]  # endorsement key, ASK/ASVK, ARK
    crl_checked: bool

    def tcb(self, which: str) -> TcbParts:
        return self.report.tcb(which, self.product)


def trusted_roots(options: VerifyOptions) -> tuple[x509.Certificate, ...]:
    if options.trust_vendor_roots and not options.extra_roots:
        return vendor_arks()  # the same tuple every time, so its index is memoised
    return (*(vendor_arks() if options.trust_vendor_roots else ()), *options.extra_roots)


def verify_report(
    report: bytes | Report,
    *,
    options: VerifyOptions,
    certificates: Sequence[x509.Certificate] = (),
    crls: Sequence[x509.CertificateRevocationList] = (),
) -> VerifiedReport:
    """Verify a raw report (or a parsed one) with the certificates and CRLs that came with it.

    ``options.collateral`` adds the host's cached certificates and CRLs. Raises
    :class:`MalformedEvidence` or :class:`VerificationFailed`.
    """
    # 1. Parse; refuse unsigned reports and unknown signature algorithms.
    parsed = report if isinstance(report, Report) else Report.from_bytes(report)
    raw = parsed.to_bytes() if isinstance(report, Report) else bytes(report)
    if parsed.signature_algo != SIG_ALGO_ECDSA_P384_SHA384:
        raise VerificationFailed(
            "snp.signature_algo",
            f"SNP report signature_algo is {parsed.signature_algo}, expected {SIG_ALGO_ECDSA_P384_SHA384} (ECDSA P-384 SHA-384)",
            field="signature_algo",
            expected=SIG_ALGO_ECDSA_P384_SHA384,
            got=parsed.signature_algo,
        )
    signing_key = parsed.signer_info.signing_key
    if signing_key not in (SIGNING_KEY_VCEK, SIGNING_KEY_VLEK):
        raise VerificationFailed(
            "snp.signing_key",
            f"SNP report is not signed (signing_key {parsed.signer_info.signing_key_name})",
            field="signer_info.signing_key",
            expected="VCEK or VLEK",
            got=parsed.signer_info.signing_key_name,
        )
    kind = "VCEK" if signing_key == SIGNING_KEY_VCEK else "VLEK"
    supplied = (*certificates, *options.collateral.certificates)
    all_crls = (*crls, *options.collateral.crls)
    roots = trusted_roots(options)

    # 2. Endorsement key candidates: the certificates named SEV-VCEK / SEV-VLEK. A host cache may
    #    hold several (one per TCB); the one whose key verifies the report signature is used.
    wanted = f"SEV-{kind}"
    leaves = [c for c in supplied if _is_named(c, wanted)]
    if not leaves:
        raise VerificationFailed(
            f"snp.{kind.lower()}.missing",
            f"no {wanted} certificate came with the evidence or the collateral",
            field=kind.lower(),
        )
    errors: list[VerificationFailed | MalformedEvidence] = []
    for leaf in leaves:
        try:
            return _verify_with(parsed, raw, leaf, supplied, roots, all_crls, options)
        except (VerificationFailed, MalformedEvidence) as exc:
            errors.append(exc)
        except (ValueError, TypeError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
            # The one boundary for cryptography's lazy parsing: a certificate or CRL field that
            # only fails to decode when first read (names, extensions) is malformed evidence.
            errors.append(MalformedEvidence("snp.cert.malformed", f"a certificate or CRL cannot be read: {exc}", field="certificates"))
    raise errors[0]


@dataclass(frozen=True)
class _Endorsement:
    """Steps 3 and 4 for one endorsement key, and the instants between which they hold."""

    inputs: tuple[object, ...]  # held, so that the ids in the entry's key stay theirs
    info: AmdKeyInfo
    chain: tuple[x509.Certificate, ...]
    crl_checked: bool
    public_key: ec.EllipticCurvePublicKey
    valid_from: datetime
    valid_until: datetime


# The same key, candidates, roots and CRLs give the same chain and revocation answer at any
# `now` inside the validity windows of the certificates and CRLs involved (nothing else in
# steps 3-4 depends on time), so a result is reused inside them. A fleet's Keeps present their
# hosts' few VCEKs again and again with the same CRLs: the RSA-4096 link, the CRL work and the
# key's extensions are done once per VCEK rather than per attestation. Bounded; only
# successes are kept.
#
# Keyed by the identity of the certificate and CRL objects (hashing their DER was a few
# percent of an issuance): the evidence decoder hands out one object per distinct DER, and
# each entry holds its inputs, so an id cannot be reused by another object while its entry
# lives. Equal objects that are not the same object simply miss and are verified in full.
_ENDORSEMENTS_MAX = 256
_endorsements: dict[Hashable, _Endorsement] = {}


def forget_endorsements() -> None:
    """Drop every remembered endorsement: the next verification of any VCEK is a first one
    (benchmarks measure both; nothing else needs this)."""
    _endorsements.clear()


def _endorsement(
    leaf: x509.Certificate,
    supplied: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    now: datetime,
) -> _Endorsement:
    inputs = (leaf, tuple(supplied), tuple(roots), tuple(crls))
    key = (
        id(leaf), tuple(map(id, supplied)), "vendor" if roots is vendor_arks() else tuple(map(id, roots)), tuple(map(id, crls)),
    )
    known = _endorsements.get(key)
    if known is not None and known.valid_from <= now <= known.valid_until:
        return known
    info = amd_key_info(leaf)
    # 3. Chain to a pinned ARK, every link and validity window checked at `now`; AMD's own
    #    intermediate for this product and key kind is tried first.
    candidates = (*supplied, *vendor_intermediates_likely_first(info.product, info.kind))
    chain = build_chain(leaf, candidates, roots, now, prefix="snp")
    # 4. Revocation by every CRL a chain issuer signed.
    crl_checked = check_revocation(chain, crls, now, prefix="snp")
    # The key that signs reports.
    try:
        public_key = leaf.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise VerificationFailed("snp.vcek.key", f"{describe(leaf)} key cannot be loaded: {exc}", field="vcek.public_key") from exc
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, ec.SECP384R1):
        raise VerificationFailed("snp.vcek.key", f"{describe(leaf)} key is not EC P-384", field="vcek.public_key")
    applied = [crl for _, _, crl in applicable_crls(chain, crls)]
    found = _Endorsement(
        inputs=inputs, info=info, chain=chain, crl_checked=crl_checked, public_key=public_key,
        valid_from=max([c.not_valid_before_utc for c in chain] + [crl.last_update_utc for crl in applied]),
        valid_until=min([c.not_valid_after_utc for c in chain] + [crl.next_update_utc for crl in applied if crl.next_update_utc]),
    )
    if len(_endorsements) >= _ENDORSEMENTS_MAX:
        _endorsements.clear()
    _endorsements[key] = found
    return found


def _is_named(cert: x509.Certificate, cn: str) -> bool:
    return common_name(cert) == cn


def _verify_with(
    report: Report,
    raw: bytes,
    leaf: x509.Certificate,
    supplied: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    options: VerifyOptions,
) -> VerifiedReport:
    endorsement = _endorsement(leaf, supplied, roots, crls, options.now)
    info, chain, crl_checked, public_key = endorsement.info, endorsement.chain, endorsement.crl_checked, endorsement.public_key

    # 5. The report signature: r, s little-endian, over bytes [0, 0x2A0).
    signature = encode_dss_signature(report.signature_r, report.signature_s)
    try:
        public_key.verify(signature, raw[:SIGNED_SIZE], ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise VerificationFailed(
            "snp.signature",
            f"SNP report signature does not verify with {describe(leaf)}",
            field="signature",
        ) from None

    # 6. One product throughout: key, root and (v3+) CPUID.
    product = info.product
    root_prod = root_product(chain[-1])
    if root_prod is not None and root_prod != product:
        raise VerificationFailed(
            "snp.product",
            f"{describe(leaf)} is a {product} key but chains to ARK-{root_prod}",
            field="product",
            expected=root_prod,
            got=product,
        )
    cpuid_product = report.cpuid_product
    if report.version >= 3 and cpuid_product is not None and cpuid_product != product:
        raise VerificationFailed(
            "snp.product",
            f"report CPUID says {cpuid_product} (family {report.cpuid_fam_id:#x} model {report.cpuid_mod_id:#x}) but the key is a {product} key",
            field="cpuid",
            expected=product,
            got=cpuid_product,
        )

    # 7. The key's TCB is the report's REPORTED_TCB.
    reported = report.tcb("reported", product)
    if info.tcb != reported:
        raise VerificationFailed(
            f"snp.{info.kind.lower()}.tcb",
            f"{info.kind} TCB {info.tcb.to_json()} differs from the report's reported_tcb {reported.to_json()}",
            field="reported_tcb",
            expected=info.tcb.to_json(),
            got=reported.to_json(),
        )

    # 8. The VCEK is this chip's.
    if info.hwid is not None and not report.signer_info.mask_chip_key:
        chip = report.chip_id[: len(info.hwid)]
        if chip != info.hwid:
            raise VerificationFailed(
                "snp.vcek.hwid",
                f"VCEK hwID {info.hwid.hex()} differs from the report's chip_id {chip.hex()}",
                field="chip_id",
                expected=info.hwid.hex(),
                got=chip.hex(),
            )
    return VerifiedReport(report=report, raw=raw, product=product, key=info, chain=chain, crl_checked=crl_checked)
