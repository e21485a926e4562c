"""List the Korean catalogue's untranslated messages (developers: run after `make messages`)."""

import sys
from pathlib import Path

import polib

catalogue = polib.pofile(str(Path(__file__).resolve().parents[1] / "src/maeul/locale/ko/LC_MESSAGES/django.po"))
missing = catalogue.untranslated_entries() + catalogue.fuzzy_entries()
for entry in missing:
    print(repr(entry.msgid))
sys.exit(1 if missing else 0)
