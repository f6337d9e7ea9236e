"""Text people type (customer values, incident descriptions and notes, reasons given for
an objection or a restriction): one rule for what may be stored.

Control characters other than tabs and line breaks are refused with a clear error:
no page shows them, and PostgreSQL cannot store NUL at all, so letting one through
turned a typo into a server error on one store and not the other.
"""

from __future__ import annotations

import re
from typing import Final

from privault.errors import N_, InvalidInput

# Unicode category Cc, except tab, line feed and carriage return.
CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def free_text(text: str) -> str:
    """``text`` without surrounding whitespace; ``InvalidInput`` if it holds a control
    character other than a tab or a line break."""
    if CONTROL.search(text):
        raise InvalidInput(N_("The value contains control characters."))
    return text.strip()
