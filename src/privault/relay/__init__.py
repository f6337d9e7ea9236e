"""``privault relay``: an SMTP before-queue filter that scans outgoing mail (issue 15).

The relay asks an ``RelayDecider`` (``decider.py``) per envelope recipient; today's
answer comes from the scanner (``scanner_adapter.py``), tomorrow's from the egress
service on the composition root.  ``wiring.build_relay`` assembles it over an opened
vault; ``server.py`` speaks SMTP; ``replies.py`` words the answers (en/cs/ur).
"""

from privault.relay.decider import (
    MessageParts,
    Part,
    RecipientVerdict,
    RelayDecider,
    RelayVerdict,
)
from privault.relay.server import RelayConfig, RelayController, RelayHandler, networks
from privault.relay.upstream import Upstream, UpstreamRefused, UpstreamUnavailable

__all__ = [
    "MessageParts",
    "Part",
    "RecipientVerdict",
    "RelayConfig",
    "RelayController",
    "RelayDecider",
    "RelayHandler",
    "RelayVerdict",
    "Upstream",
    "UpstreamRefused",
    "UpstreamUnavailable",
    "networks",
]
