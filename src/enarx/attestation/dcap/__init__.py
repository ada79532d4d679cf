"""Intel DCAP (SGX and TDX) quotes: parse, verify against the Intel SGX Root CA, validate."""

from enarx.attestation.dcap.validate import DcapPolicy

__all__ = ["DcapPolicy"]
