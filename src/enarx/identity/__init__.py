"""Workload identity: digests, certificate names, the claims extension, peer verification.

See docs/identity.md for the grammar and encodings.
"""

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
