"""AMD certificate chains: ARK -> ASK/ASVK -> VCEK/VLEK, checked link by link at ``now``.

AMD's chains do not fit a WebPKI path builder: RSASSA-PSS signatures, VCEKs with serial number
0 and no AKI, no EKU. So each link is checked explicitly (go-sev-guest ``verify.go`` does the
same): issuer name = parent subject, the parent is a CA allowed to sign certificates, the
signature (``verify_directly_issued_by``), and both validity windows at ``now``. The last
certificate must be a pinned root, compared by the SHA-256 of its DER, never by name.

CRLs are matched to a link by issuer name *and* signature, never by URL (Steward matched by
URL and silently skipped a miss); a CRL naming the issuer whose signature does not verify fails
closed.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes

from enarx.attestation.errors import MalformedEvidence, VerificationFailed
from enarx.attestation.snp import _amd_certs


def load_der_certificate(data: bytes, *, what: str = "certificate") -> x509.Certificate:
    """Parse DER, tolerating AMD's serial number 0 (which cryptography warns about)."""
    try:
        with warnings.catch_warnings():
            # VCEKs have serial 0; cryptography 48+ parses it with a deprecation warning.
            warnings.simplefilter("ignore")
            return x509.load_der_x509_certificate(bytes(data))
    except (ValueError, TypeError, x509.InvalidVersion) as exc:
        raise MalformedEvidence("snp.cert.malformed", f"{what} is not a DER X.509 certificate: {exc}", field=what) from exc


def load_pem_certificates(data: bytes, *, what: str = "certificates") -> list[x509.Certificate]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return x509.load_pem_x509_certificates(bytes(data))
    except (ValueError, TypeError, x509.InvalidVersion) as exc:
        raise MalformedEvidence("snp.cert.malformed", f"{what} are not PEM X.509 certificates: {exc}", field=what) from exc


_T = TypeVar("_T")
_K = TypeVar("_K")
_V = TypeVar("_V")


class _IdentityMemo(Generic[_T]):
    """Values derived from a certificate, remembered by object identity.

    Hashing a Certificate hashes its DER (~8 us), which is most of what a lookup would save;
    identity is free. Entries hold the object, so an id cannot be reused while remembered;
    the memo is bounded and simply forgets everything when full.
    """

    def __init__(self, compute: Callable[[x509.Certificate], _T], size: int = 256) -> None:
        self._compute = compute
        self._size = size
        self._entries: dict[int, tuple[x509.Certificate, _T]] = {}

    def __call__(self, cert: x509.Certificate) -> _T:
        hit = self._entries.get(id(cert))
        if hit is not None and hit[0] is cert:
            return hit[1]
        value = self._compute(cert)
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[id(cert)] = (cert, value)
        return value


def _sha256(cert: x509.Certificate) -> bytes:
    return cert.fingerprint(hashes.SHA256())


#: SHA-256 of the DER, remembered per certificate object.
fingerprint = _IdentityMemo(_sha256)


@functools.lru_cache(maxsize=64)
def _pinned_fingerprints(roots: tuple[x509.Certificate, ...]) -> frozenset[bytes]:
    return frozenset(fingerprint(r) for r in roots)


@functools.cache
def vendor_arks() -> tuple[x509.Certificate, ...]:
    """The pinned AMD Root Keys (Milan, Genoa, Turin), each checked against its fingerprint."""
    arks = tuple(x509.load_pem_x509_certificate(pem.encode()) for pem in _amd_certs.ARK_PEMS)
    pinned = {bytes.fromhex(fp) for fp in _amd_certs.PINNED_ARK_FINGERPRINTS.values()}
    for ark in arks:
        if fingerprint(ark) not in pinned:  # pragma: no cover - a corrupted install
            raise RuntimeError(f"embedded ARK {ark.subject.rfc4514_string()} does not match its pinned fingerprint")
    return arks


@functools.cache
def vendor_intermediates() -> tuple[x509.Certificate, ...]:
    """AMD's ASKs and ASVKs: candidates only, each must chain to a pinned ARK."""
    return tuple(x509.load_pem_x509_certificate(pem.encode()) for pem in _amd_certs.INTERMEDIATE_PEMS)


@functools.cache
def vendor_intermediates_likely_first(product: str, kind: str) -> tuple[x509.Certificate, ...]:
    """All of AMD's intermediates, the ones that sign ``kind`` keys of ``product`` first."""
    cn = f"SEV-{product}" if kind == "VCEK" else f"SEV-VLEK-{product}"
    every = vendor_intermediates()
    return (*(c for c in every if _cn(c) == cn), *(c for c in every if _cn(c) != cn))


def _cn(cert: x509.Certificate | x509.CertificateRevocationList) -> str:
    try:
        name = cert.subject if isinstance(cert, x509.Certificate) else cert.issuer
        attrs = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    except (ValueError, TypeError):  # cryptography decodes names lazily, and raises both
        return "(undecodable name)"
    value = attrs[0].value if attrs else name.rfc4514_string()
    return value if isinstance(value, str) else value.decode(errors="replace")


def serial_number(cert: x509.Certificate) -> int:
    """The serial, without cryptography's warning about AMD's (non-RFC 5280) serial 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cert.serial_number


_roots_for_memo: dict[tuple[int, int], tuple[x509.Certificate, Sequence[x509.Certificate], list[x509.Certificate]]] = {}


def _roots_for(
    inter: x509.Certificate, roots: Sequence[x509.Certificate], by_subject: dict[x509.Name, list[x509.Certificate]]
) -> list[x509.Certificate]:
    """The roots named as ``inter``'s issuer; remembered by identity for long-lived objects."""
    hit = _roots_for_memo.get((id(inter), id(roots)))
    if hit is not None and hit[0] is inter and hit[1] is roots:
        return hit[2]
    found = by_subject.get(inter.issuer, [])
    if isinstance(roots, tuple):
        _bounded_put(_roots_for_memo, (id(inter), id(roots)), (inter, roots, found))
    return found


@functools.lru_cache(maxsize=1024)
def _common_name_by_der(cert: x509.Certificate) -> str:
    return _cn(cert)


#: The subject CN, remembered by identity, then by DER (decoding a fresh certificate's name
#: costs more than hashing it).
common_name = _IdentityMemo(_common_name_by_der)


def describe(cert: x509.Certificate) -> str:
    return f"{_cn(cert)} (serial {serial_number(cert)})"


def check_validity(cert: x509.Certificate, now: datetime, *, prefix: str) -> None:
    """``not_valid_before <= now <= not_valid_after``, or a typed refusal naming the window."""
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if now < start:
        raise VerificationFailed(
            f"{prefix}.cert.not_yet_valid",
            f"certificate {describe(cert)} is not valid before {start.isoformat()} (now {now.isoformat()})",
            field=_cn(cert),
            expected=f">= {start.isoformat()}",
            got=now.isoformat(),
        )
    if now > end:
        raise VerificationFailed(
            f"{prefix}.cert.expired",
            f"certificate {describe(cert)} expired at {end.isoformat()} (now {now.isoformat()})",
            field=_cn(cert),
            expected=f"<= {end.isoformat()}",
            got=now.isoformat(),
        )


# Signatures of CA links that cannot change: (child fingerprint, parent fingerprint). Only links
# whose parent is a pinned root are cached (a verified ASK under a pinned ARK), so the cache
# cannot grow with attacker-supplied certificates beyond the handful of AMD intermediates.
_verified_ca_links: set[tuple[bytes, bytes]] = set()
_MAX_CACHED_LINKS = 64


# The same cache by object identity, for the long-lived vendor certificates: no hashing at all.
# Entries hold the objects, so their ids cannot be reused while cached.
_verified_ca_objects: dict[tuple[int, int], tuple[x509.Certificate, x509.Certificate]] = {}


def _cached_link(child: x509.Certificate, parent: x509.Certificate) -> bool:
    hit = _verified_ca_objects.get((id(child), id(parent)))
    return hit is not None and hit[0] is child and hit[1] is parent


def _check_signature(child: x509.Certificate, parent: x509.Certificate, *, prefix: str, cache: bool) -> None:
    key = (fingerprint(child), fingerprint(parent)) if cache else None
    if key is not None and key in _verified_ca_links:
        _remember_objects(child, parent)
        return
    try:
        child.verify_directly_issued_by(parent)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise VerificationFailed(
            f"{prefix}.chain.signature",
            f"certificate {describe(child)} is not signed by {describe(parent)}: {exc or 'bad signature'}",
            field=_cn(child),
        ) from exc
    if key is not None:
        if len(_verified_ca_links) >= _MAX_CACHED_LINKS:
            _verified_ca_links.clear()
        _verified_ca_links.add(key)
        _remember_objects(child, parent)


def _remember_objects(child: x509.Certificate, parent: x509.Certificate) -> None:
    _bounded_put(_verified_ca_objects, (id(child), id(parent)), (child, parent))


def _bounded_put(memo: dict[_K, _V], key: _K, value: _V) -> None:
    # Forget everything when full: memos keyed by identity only pay off for the handful of
    # long-lived AMD objects, which come straight back; short-lived ones must not crowd them out.
    if len(memo) >= _MAX_CACHED_LINKS:
        memo.clear()
    memo[key] = value


def _ca_problem(parent: x509.Certificate) -> str | None:
    try:
        parent.extensions  # noqa: B018 - parse them once; malformed ones make no CA
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        return "not_ca"
    try:
        if not parent.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return "not_ca"
    except x509.ExtensionNotFound:
        pass
    try:
        if not parent.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign:
            return "key_usage"
    except x509.ExtensionNotFound:
        pass
    return None


_ca_problems = _IdentityMemo(_ca_problem)


def _check_ca(parent: x509.Certificate, *, prefix: str) -> None:
    problem = _ca_problems(parent)
    if problem is None:
        return
    if problem == "not_ca":
        raise VerificationFailed(f"{prefix}.chain.not_ca", f"{describe(parent)} is not a CA", field=_cn(parent))
    raise VerificationFailed(f"{prefix}.chain.key_usage", f"{describe(parent)} may not sign certificates", field=_cn(parent))


def verify_chain(
    chain: Sequence[x509.Certificate],
    roots: Iterable[x509.Certificate],
    now: datetime,
    *,
    prefix: str = "snp",
    leaf_link_verified: bool = False,
) -> None:
    """Check a leaf-first chain ending in a root pinned by fingerprint, link by link at ``now``.

    1. the last certificate's SHA-256 is one of ``roots``' (never trust by name);
    2. every certificate is inside its validity window at ``now``;
    3. each link: issuer name = parent subject, the parent is a CA, the signature verifies
       (``leaf_link_verified``: the caller already checked the first link's names and signature);
    4. the root signs itself.
    """
    if not chain:
        raise VerificationFailed(f"{prefix}.chain.empty", "empty certificate chain")
    root = chain[-1]
    # Identity first: the root objects the verifier itself holds need no hashing.
    if not any(root is r for r in roots) and (root_fp := fingerprint(root)) not in _pinned_fingerprints(tuple(roots)):
        raise VerificationFailed(
            f"{prefix}.chain.untrusted",
            f"{describe(root)} is not a trusted root (SHA-256 {root_fp.hex()})",
            field="root",
            got=root_fp.hex(),
        )
    for cert in chain:
        check_validity(cert, now, prefix=prefix)
    links = [*itertools.pairwise(chain), (root, root)]
    for index, (child, parent) in enumerate(links):
        if _cached_link(child, parent):
            continue  # verified before under this pinned root: names, CA bits and signature
        _check_ca(parent, prefix=prefix)
        if index == 0 and leaf_link_verified:
            continue
        if child.issuer != parent.subject:
            raise VerificationFailed(
                f"{prefix}.chain.issuer",
                f"{describe(child)} names issuer {child.issuer.rfc4514_string()}, not {parent.subject.rfc4514_string()}",
                field=_cn(child),
                expected=parent.subject.rfc4514_string(),
                got=child.issuer.rfc4514_string(),
            )
        _check_signature(child, parent, prefix=prefix, cache=parent is root)


def build_chain(
    leaf: x509.Certificate,
    candidates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    now: datetime,
    *,
    prefix: str = "snp",
) -> tuple[x509.Certificate, ...]:
    """Find and verify ``leaf -> intermediate -> root`` (AMD chains have exactly one intermediate).

    Candidates are tried in order (put the likely one first): cryptography compares the leaf's
    issuer with the candidate's subject and checks the signature in one call, so a fresh leaf's
    names are never decoded into Python objects on the way to success. An intermediate that
    signed the leaf is then tried under every root whose subject is its issuer; the first fully
    verified chain wins. When none verifies, the first specific failure is raised (an expired
    ASK says so instead of "untrusted").
    """
    errors: list[VerificationFailed] = []
    seen: set[int] = {id(leaf)}  # by identity: a duplicate by DER is at worst tried twice
    by_subject = _roots_by_subject(roots)
    for inter in candidates:
        if id(inter) in seen:
            continue
        seen.add(id(inter))
        try:
            leaf.verify_directly_issued_by(inter)
        except ValueError:
            continue  # not the leaf's issuer (names differ): not a candidate
        except (InvalidSignature, TypeError, UnsupportedAlgorithm) as exc:
            errors.append(
                VerificationFailed(
                    f"{prefix}.chain.signature",
                    f"certificate {describe(leaf)} is not signed by {describe(inter)}: {exc or 'bad signature'}",
                    field=_cn(leaf),
                )
            )
            continue
        for root in _roots_for(inter, roots, by_subject):
            chain = (leaf, inter, root)
            try:
                verify_chain(chain, roots, now, prefix=prefix, leaf_link_verified=True)
            except VerificationFailed as exc:
                errors.append(exc)
                continue
            return chain
    if errors:
        raise errors[0]
    raise VerificationFailed(
        f"{prefix}.chain.untrusted",
        f"{describe(leaf)} does not chain to a trusted AMD root (issuer {leaf.issuer.rfc4514_string()})",
        field=_cn(leaf),
        got=leaf.issuer.rfc4514_string(),
    )


_roots_index: dict[int, tuple[Sequence[x509.Certificate], dict[x509.Name, list[x509.Certificate]]]] = {}


def _roots_by_subject(roots: Sequence[x509.Certificate]) -> dict[x509.Name, list[x509.Certificate]]:
    """Roots indexed by subject; memoised for the long-lived root tuples (by identity)."""
    hit = _roots_index.get(id(roots))
    if hit is not None and hit[0] is roots:
        return hit[1]
    index: dict[x509.Name, list[x509.Certificate]] = {}
    for root in roots:
        index.setdefault(root.subject, []).append(root)
    if isinstance(roots, tuple):
        _bounded_put(_roots_index, id(roots), (roots, index))
    return index


def _subject_text(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


subject_text = _IdentityMemo(_subject_text)


_verified_crls: set[tuple[bytes, bytes]] = set()
_MAX_CACHED_CRLS = 64


def check_revocation(
    chain: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    now: datetime,
    *,
    prefix: str = "snp",
) -> bool:
    """Check every link of ``chain`` against the CRLs its issuer signed; True if any applied.

    A CRL applies to a link when it names the parent as issuer; it must then verify with the
    parent's key and be current at ``now`` (``last_update <= now <= next_update``), or the
    check fails closed. CRLs of other issuers (Enarx ships the Genoa CRL with Milan evidence)
    are ignored.
    """
    try:
        return _check_revocation(chain, crls, now, prefix=prefix)
    except (ValueError, TypeError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        raise MalformedEvidence(f"{prefix}.crl.malformed", f"a CRL cannot be read: {exc}", field="crl") from exc


def applicable_crls(
    chain: Sequence[x509.Certificate], crls: Sequence[x509.CertificateRevocationList]
) -> list[tuple[x509.Certificate, x509.Certificate, x509.CertificateRevocationList]]:
    """``(certificate, issuer, crl)`` for every CRL in ``crls`` that names an issuer of ``chain``."""
    return [(child, parent, crl) for child, parent in itertools.pairwise(chain) for crl in crls if crl.issuer == parent.subject]


def _check_revocation(
    chain: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    now: datetime,
    *,
    prefix: str,
) -> bool:
    checked = False
    for child, parent, crl in applicable_crls(chain, crls):
        crl_key = (crl.fingerprint(hashes.SHA256()), fingerprint(parent))
        if crl_key not in _verified_crls:
            try:
                valid = crl.is_signature_valid(parent.public_key())  # type: ignore[arg-type]
            except (ValueError, TypeError, UnsupportedAlgorithm):
                valid = False
            if not valid:
                raise VerificationFailed(
                    f"{prefix}.crl.signature",
                    f"CRL issued by {_cn(crl)} does not verify with {describe(parent)}",
                    field="crl",
                )
            if len(_verified_crls) >= _MAX_CACHED_CRLS:
                _verified_crls.clear()
            _verified_crls.add(crl_key)
        last, nxt = crl.last_update_utc, crl.next_update_utc
        if nxt is None or now > nxt:
            raise VerificationFailed(
                f"{prefix}.crl.expired",
                f"CRL issued by {_cn(crl)} expired at {nxt.isoformat() if nxt else '(no nextUpdate)'} (now {now.isoformat()})",
                field="crl",
                expected=f"<= {nxt.isoformat()}" if nxt else "a nextUpdate",
                got=now.isoformat(),
            )
        if now < last:
            raise VerificationFailed(
                f"{prefix}.crl.not_yet_valid",
                f"CRL issued by {_cn(crl)} is not valid before {last.isoformat()} (now {now.isoformat()})",
                field="crl",
                expected=f">= {last.isoformat()}",
                got=now.isoformat(),
            )
        checked = True
        revoked = crl.get_revoked_certificate_by_serial_number(serial_number(child))
        if revoked is not None:
            raise VerificationFailed(
                f"{prefix}.cert.revoked",
                f"certificate {describe(child)} was revoked by {_cn(crl)} on {revoked.revocation_date_utc.isoformat()}",
                field=_cn(child),
                got=serial_number(child),
            )
    return checked
