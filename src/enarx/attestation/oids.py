"""The evidence extension OIDs, in a module of their own so that naming one loads nothing."""

from typing import Final

#: Enarx's: the Keep ran without a TEE (KVM or nil backend); the extension is empty.
OID_EVIDENCE_KVM: Final = "1.3.6.1.4.1.58270.1.1"
#: Enarx's: Intel SGX quote with its collateral.
OID_EVIDENCE_SGX: Final = "1.3.6.1.4.1.58270.1.2"
#: Enarx's: AMD SEV-SNP report with the VCEK and CRLs.
OID_EVIDENCE_SNP: Final = "1.3.6.1.4.1.58270.1.3"
#: Ours (Enarx defined none for TDX): minted once for this project from UUID
#: c8332733-52e5-4f2d-b0dc-7e5a0442f589 (never change it).
OID_EVIDENCE_TDX: Final = "2.25.266111201377034270160286094288377542025"
