"""The debug build of Enarx: what the release build leaves out on purpose.

Host stdio, host directories, plaintext TCP, the nil backend (no TEE) and the embedded test
Steward. Installing this distribution registers them with ``enarx`` through entry points;
the release install has none of this code.
"""

__version__ = "0.1.0"
