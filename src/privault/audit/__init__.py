"""The tamper-evident audit trail: hash-chained entries and signed checkpoints.

Record with ``vault.audit.record(entry)``, or inside your own transaction with
``append(session, entry)`` (fail closed: ``AuditUnavailable``).  ``AuditLog.verify``
and ``verify_export`` check a chain and name the first bad entry.  The canonical form
and chain rule are defined in ``privault.audit.canonical``; what an entry may contain
in ``privault.audit.entry``.
"""

from privault.audit.acting import Acting, acting, actor_of
from privault.audit.canonical import canonical_json, chain_hash, checkpoint_message
from privault.audit.chain import (
    ChainedEntry,
    Checkpoint,
    Signer,
    append,
    append_many,
    checkpoint,
)
from privault.audit.entry import AuditEntry, Kind, Outcome
from privault.audit.export import ExportReport, verify_export
from privault.audit.log import AuditLog, verify_database
from privault.audit.verify import Problem, Reason, VerifyReport

__all__ = [
    "Acting",
    "AuditEntry",
    "AuditLog",
    "ChainedEntry",
    "Checkpoint",
    "ExportReport",
    "Kind",
    "Outcome",
    "Problem",
    "Reason",
    "Signer",
    "VerifyReport",
    "acting",
    "actor_of",
    "append",
    "append_many",
    "canonical_json",
    "chain_hash",
    "checkpoint",
    "checkpoint_message",
    "verify_database",
    "verify_export",
]
