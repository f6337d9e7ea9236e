"""Consent: notices, the append-only ledger, objections (Art. 21), restrictions (Art. 18),
proof (Art. 7(1)), the customers' preference centre, and consent requests.

The semantics the policy engine relies on are in ``privault.consent.service``.
"""
