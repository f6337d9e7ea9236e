"""privault: a customer-data privacy vault and guard.

The public surface is deliberately small; everything else is internal and may change.
"""

from privault.errors import (
    AccessDenied,
    ConfigError,
    CryptoError,
    DecryptionError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PrivaultError,
    StoreError,
)

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "ConfigError",
    "CryptoError",
    "DecryptionError",
    "InvalidInput",
    "InvalidTransition",
    "NotFound",
    "PrivaultError",
    "StoreError",
    "__version__",
]
