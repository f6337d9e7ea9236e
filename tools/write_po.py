"""Write a gettext catalog from a Python dict of translations (used to maintain the .po files).

    python tools/write_po.py TRANSLATIONS.py SLICE

TRANSLATIONS.py defines ``T = {msgid: (czech, urdu)}``; the files written are
``src/privault/i18n/locale/{cs,ur}/LC_MESSAGES/SLICE.po``.  Existing entries of those
files are kept unless the dict gives a new translation.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

LOCALES = Path(__file__).resolve().parent.parent / "src" / "privault" / "i18n" / "locale"


def main() -> None:
    translations: dict[str, tuple[str, str]] = runpy.run_path(sys.argv[1])["T"]
    slice_name = sys.argv[2]
    for index, lang in enumerate(("cs", "ur")):
        path = LOCALES / lang / "LC_MESSAGES" / f"{slice_name}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=lang)
        else:
            catalog = Catalog(locale=lang, project="privault", domain="privault")
        for msgid, pair in translations.items():
            catalog.add(msgid, pair[index])
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=True, omit_header=False)


if __name__ == "__main__":
    main()
