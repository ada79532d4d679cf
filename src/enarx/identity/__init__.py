"""Workload identity: digests, certificate names, the claims extension, peer verification.

See docs/identity.md for the grammar and encodings.
"""

from typing import TYPE_CHECKING

from enarx._lazy import attach

if TYPE_CHECKING:
    from enarx.identity.claims import INSECURE_REASONS, OID_ENARX_CLAIMS, Claims
    from enarx.identity.digests import (
        Entry,
        Tree,
        application_digest,
        build_tree,
        content_digest_header,
        deployment_digest,
        deployment_document,
        parse_content_digest,
        parse_directory,
        tree_nodes,
    )
    from enarx.identity.errors import IdentityError
    from enarx.identity.peer import PeerIdentity, verify_peer
    from enarx.identity.san import (
        TEST_TRUST_DOMAIN,
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

__all__ = [
    "INSECURE_REASONS",
    "OID_ENARX_CLAIMS",
    "TEST_TRUST_DOMAIN",
    "Claims",
    "Entry",
    "IdentityError",
    "PeerIdentity",
    "Tree",
    "WorkloadNames",
    "adig_dns_name",
    "app_dns_name",
    "application_digest",
    "b32",
    "build_tree",
    "content_digest_header",
    "ddig_dns_name",
    "deployment_digest",
    "deployment_document",
    "parse_content_digest",
    "parse_directory",
    "parse_dns_name",
    "parse_spiffe_id",
    "spiffe_id",
    "tree_nodes",
    "validate_app_name",
    "validate_trust_domain",
    "verify_peer",
]

__getattr__, __dir__ = attach(
    __name__,
    {
        "INSECURE_REASONS": "enarx.identity.claims",
        "OID_ENARX_CLAIMS": "enarx.identity.claims",
        "Claims": "enarx.identity.claims",
        "Entry": "enarx.identity.digests",
        "Tree": "enarx.identity.digests",
        "application_digest": "enarx.identity.digests",
        "build_tree": "enarx.identity.digests",
        "content_digest_header": "enarx.identity.digests",
        "deployment_digest": "enarx.identity.digests",
        "deployment_document": "enarx.identity.digests",
        "parse_content_digest": "enarx.identity.digests",
        "parse_directory": "enarx.identity.digests",
        "tree_nodes": "enarx.identity.digests",
        "IdentityError": "enarx.identity.errors",
        "PeerIdentity": "enarx.identity.peer",
        "verify_peer": "enarx.identity.peer",
        "TEST_TRUST_DOMAIN": "enarx.identity.san",
        "WorkloadNames": "enarx.identity.san",
        "adig_dns_name": "enarx.identity.san",
        "app_dns_name": "enarx.identity.san",
        "b32": "enarx.identity.san",
        "ddig_dns_name": "enarx.identity.san",
        "parse_dns_name": "enarx.identity.san",
        "parse_spiffe_id": "enarx.identity.san",
        "spiffe_id": "enarx.identity.san",
        "validate_app_name": "enarx.identity.san",
        "validate_trust_domain": "enarx.identity.san",
    },
)
