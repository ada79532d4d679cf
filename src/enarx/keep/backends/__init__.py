"""Keep backends: evidence providers for the TEE this process runs in.

``snp`` and ``tdx`` (configfs-tsm), ``sgx`` (Gramine's ``/dev/attestation``) ship here;
``nil`` only in the ``enarx-debug`` distribution. See docs/backends.md.
"""

from enarx.keep.backends.base import (
    REPORT_DATA_SIZE,
    Backend,
    BackendError,
    Check,
    Evidence,
    report_data_for,
)
from enarx.keep.backends.choose import (
    ENTRY_POINT_GROUP,
    all_backends,
    plugin_backends,
    release_backends,
    release_backends_from_env,
    select_backend,
)
from enarx.keep.backends.configfs_tsm import DEFAULT_TSM_ROOT
from enarx.keep.backends.hostcache import DEFAULT_CACHE_ROOT, HostCache
from enarx.keep.backends.sgx import DEFAULT_ATTESTATION_DEV, SgxBackend
from enarx.keep.backends.snp import SnpBackend
from enarx.keep.backends.tdx import TdxBackend

__all__ = [
    "DEFAULT_ATTESTATION_DEV",
    "DEFAULT_CACHE_ROOT",
    "DEFAULT_TSM_ROOT",
    "ENTRY_POINT_GROUP",
    "REPORT_DATA_SIZE",
    "Backend",
    "BackendError",
    "Check",
    "Evidence",
    "HostCache",
    "SgxBackend",
    "SnpBackend",
    "TdxBackend",
    "all_backends",
    "plugin_backends",
    "release_backends",
    "release_backends_from_env",
    "report_data_for",
    "select_backend",
]
