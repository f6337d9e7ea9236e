"""Consent: notices, the append-only ledger, objections (Art. 21), restrictions (Art. 18),
proof (Art. 7(1)), signed preference-centre links, and consent requests.

``ConsentService`` (``service.py``, where the semantics the policy engine relies on are
written down) is the one service; the customers' preference centre is a page of
``privault.console``.
"""
