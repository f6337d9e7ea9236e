"""Rendering a page: the shared layout, the reader's language, strict headers.

Every template lives under ``console/templates/`` (``layout.html``, and one folder per
page: ``preferences/``, ``report/``); messages in them are gettext msgids, translated
with the catalogs of ``privault.i18n``.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from privault.i18n import direction, translator

# Pages hold no scripts and talk only to themselves; nothing is cached or framed.
PAGE_HEADERS: Final[dict[str, str]] = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

TEMPLATES: Final[Environment] = Environment(
    loader=PackageLoader("privault.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_page(template: str, lang: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """``template`` (a path under ``console/templates/``) in ``lang``, with the headers."""
    html = TEMPLATES.get_template(template).render(
        _=translator(lang).gettext, lang=lang, dir=direction(lang), **context
    )
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
