"""The public names of each package, pinned: adding, removing or renaming one is a
deliberate change to this file, not a side effect (STYLE.md, after encode/httpx).

Everything not listed here is internal and may change without notice.
"""

from __future__ import annotations

import importlib

import pytest

PUBLIC: dict[str, list[str]] = {
    "privault": [
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
    ],
    "privault.errors": [
        "N_",
        "AccessDenied",
        "AdminRequired",
        "AuditUnavailable",
        "BodyTooLarge",
        "ConfigError",
        "Conflict",
        "CryptoError",
        "DecryptionError",
        "ExpiredLinkError",
        "FieldProblem",
        "InvalidInput",
        "InvalidLinkError",
        "InvalidTransition",
        "NotFound",
        "PrivaultError",
        "RecordRejected",
        "RequestTimeout",
        "StoreError",
        "Unauthenticated",
        "UnknownKey",
    ],
    "privault.client": [
        "AsyncClient",
        "AsyncExportStream",
        "Client",
        "Explanation",
        "ExportStream",
        "Record",
        "RemoteDecision",
        "ScanResult",
        "Summary",
    ],
    "privault.policy": [
        "ACTIONS",
        "ALWAYS",
        "EXAMPLE_POLICY",
        "EXAMPLE_TESTS",
        "MESSAGES",
        "RULE_OF",
        "VIEWS",
        "Action",
        "CaseResult",
        "Condition",
        "CustomerFacts",
        "Decision",
        "DenyRule",
        "Effect",
        "Explanation",
        "FieldDecision",
        "FieldExplanation",
        "LawfulBasis",
        "Policy",
        "PolicyCase",
        "PolicyEngine",
        "PrincipalSpec",
        "PurposeSpec",
        "Reason",
        "ReasonCode",
        "RecipientSpec",
        "Request",
        "RoleSpec",
        "Rule",
        "View",
        "check_case",
        "compile_policy",
        "explain",
        "load_cases",
        "load_engine",
        "load_policy",
        "policy_files",
        "run_cases",
    ],
    "privault.audit": [
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
    ],
    "privault.crypto": [
        "EMPTY_RECORD",
        "DataKey",
        "EnvKeyProvider",
        "FileKeyProvider",
        "KeyMaterial",
        "KeyProvider",
        "Keyring",
        "create_key_file",
        "open_keyring",
    ],
    "privault.scan": [
        "DEFAULT_FIELD_KINDS",
        "Action",
        "Blinder",
        "BlockHandler",
        "CustomerIndex",
        "CustomerMatches",
        "CustomerRuling",
        "Decision",
        "DigestTable",
        "EgressPolicy",
        "EgressVerdict",
        "ExactMatcher",
        "FieldRuling",
        "FileReport",
        "Finding",
        "IndexRow",
        "IndexSource",
        "Limits",
        "MatchTally",
        "Narrow",
        "Pattern",
        "Problem",
        "Reason",
        "Recipient",
        "RecipientDirectory",
        "RecipientKind",
        "Recognizer",
        "Registry",
        "Ruling",
        "ScanReport",
        "Scanner",
        "Unruled",
        "Verdict",
        "country_recognizers",
        "decide",
        "default_registry",
        "generic_recognizers",
        "scan_paths",
        "scan_stream",
    ],
    "privault.i18n": [
        "DEFAULT_LANGUAGE",
        "LANGUAGES",
        "LOCALE_DIR",
        "Language",
        "direction",
        "format_number",
        "load_catalog",
        "negotiate",
        "parse_language",
        "translator",
    ],
    "privault.store": [
        "current_revision",
        "make_engine",
        "session_scope",
        "upgrade",
    ],
    "privault.api": [
        "create_app",
    ],
}


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_public_names_are_pinned(package: str) -> None:
    assert importlib.import_module(package).__all__ == PUBLIC[package]


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_every_public_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names what it does not define: {missing}"


def test_the_package_re_exports_the_error_tree() -> None:
    import privault
    import privault.errors

    for name in privault.__all__:
        if name != "__version__":
            assert getattr(privault, name) is getattr(privault.errors, name)
