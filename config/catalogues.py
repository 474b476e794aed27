"""The translation catalogues: compiled in pure Python, extracted with Django's makemessages.

Compiling (.po -> .mo) is done here rather than by GNU msgfmt so that `make run` and `make test`
need nothing beyond Python on a fresh machine (no apt step, no root): the .mo format is a small,
fixed binary table, and this writer is what Python's own Tools/i18n/msgfmt.py does, plus the
skips msgfmt makes (fuzzy, untranslated and obsolete entries never reach the .mo, so an
unfinished string shows in the city's default language, never as a blank). The .mo files are
build outputs (gitignored): `make` compiles those older than their .po, and so does the test
run (tests/conftest.py).

Extracting (finding the strings in templates and code) needs GNU xgettext, which only a
developer adding strings needs: `python -m config.catalogues extract` (docs/translating.md).
It extracts only from TRANSLATED, the files whose every string is translated into every
language; tests/i18n/test_catalogues.py fails when one of them has a string the catalogues lack.
A file not on the list shows its strings in English.

    python -m config.catalogues compile    # what make does
    python -m config.catalogues extract    # after wrapping strings: update every .po
"""

from __future__ import annotations

import ast
import os
import shutil
import struct
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
LOCALE_DIR = BASE_DIR / "locale"
# gettext's directory names for the codes in settings.LANGUAGES (Django's to_locale()).
CATALOGUE_LOCALES = ["es", "pl", "zh_Hans", "ar"]

# Every file whose strings are fully translated, as globs from the project folder. A file joins
# the list when its strings are wrapped and translated into every language (docs/translating.md).
TRANSLATED = [
    "templates/base.html",
    "templates/_language_switch.html",
    "templates/_typed.html",
    "templates/404.html",
    "templates/500.html",
    "templates/503.html",
    "templates/accounts/*.html",
    "templates/registration/*",
    "templates/opendata/*.html",
    "templates/emails/_base.html",
    "templates/emails/_footer.txt",
    "templates/emails/_issue_summary.*",
    "templates/emails/_unsubscribe_label.txt",
    "templates/emails/status_changed*",
    "templates/emails/comment_added*",
    "templates/emails/issue_created*",
    "accounts/forms.py",
    "accounts/views.py",
    "accounts/text.py",
    "config/errors.py",
    "issues/models/reports.py",
    "issues/models/photos.py",
    "issues/filters.py",
    "issues/opendata/exports.py",
    "issues/opendata/views.py",
    # The ward dashboards (ward page, league, compare, types, monthly report, my wards, charts).
    "templates/dashboards/*.html",
    "issues/dashboards/*.py",
    "issues/templatetags/figures.py",
    "issues/models/dashboards.py",
    # The map (home page) and the report form: what a resident on a phone meets first.
    "templates/issues/home.html",
    "templates/issues/report.html",
    "templates/issues/_home_list.html",
    "templates/issues/_issue_rows.html",
    "issues/templatetags/issue_rows.py",  # the rows _issue_rows.html writes
    "templates/issues/_place_search.html",
    "templates/issues/_questions.html",
    "templates/issues/_form_fields.html",
    "templates/issues/_field.html",
    "templates/issues/_type_notice.html",
    "templates/issues/_asset_picker.html",
    "templates/issues/_map_assets.html",
    "templates/issues/_badge.html",
    "templates/issues/confirm_report.html",
    "templates/issues/confirm_report_sent.html",
    "templates/issues/rate_limited.html",
    "templates/issues/places.html",
    "issues/forms.py",
    "issues/plurals.py",
    "issues/photos.py",
    "issues/views/home.py",
    "issues/views/report.py",
    "issues/views/places.py",
    "issues/services/reports.py",
    "issues/services/confirmations.py",
    "issues/services/geocoding.py",
    "departments/places/models.py",
    "departments/places/search.py",
    "departments/attributes.py",
    # The issue page and what a resident does after reporting (h/issue).
    "templates/issues/detail.html",
    "templates/issues/_engage.html",
    "templates/issues/_nearby.html",
    "templates/issues/_official.html",
    "templates/issues/_reporter_box.html",
    "templates/issues/_resident_update.html",
    "templates/issues/_resolution.html",
    "templates/issues/_after_photos.html",
    "templates/issues/_update_photos.html",
    "templates/issues/_tracker_form.html",
    "templates/issues/_profile_data.html",
    "templates/issues/edit_closed.html",
    "templates/issues/edit_report.html",
    "templates/issues/fixed_changed.html",
    "templates/issues/fixed_confirm.html",
    "templates/issues/fixed_reopened.html",
    "templates/issues/fixed_thanks.html",
    "templates/issues/not_fixed_closed.html",
    "templates/issues/not_fixed_confirm.html",
    "templates/issues/not_found.html",
    "templates/issues/delete_account.html",
    "templates/issues/profile.html",
    "templates/issues/report_abuse.html",
    "templates/issues/track.html",
    "templates/alerts/*.html",
    "templates/notify/*.html",
    "issues/views/issue.py",
    "issues/views/updates.py",
    "issues/views/followup.py",
    "issues/views/notfixed.py",
    "issues/views/myreports.py",
    "issues/views/privacy.py",
    "issues/views/profile.py",
    "issues/views/moderation.py",
    "issues/views/media.py",
    "issues/views/alerts.py",
    "issues/update_forms.py",
    "issues/alert_forms.py",
    "issues/notify/views.py",
    "issues/models/updates.py",
    "issues/models/alerts.py",
    "issues/models/residents.py",
    "issues/models/moderation.py",
    "issues/services/engagement.py",
    "issues/services/residents.py",
    "issues/services/privacy.py",
    "issues/services/alerts.py",
    "issues/services/duplicates.py",
    # Emails (h/mail): every email's subject, text and HTML, and the code that words them.
    "templates/emails/adoption_reminder*",
    "templates/emails/alert_confirm*",
    "templates/emails/alert_digest*",
    "templates/emails/area_alert*",
    "templates/emails/department_new_issue*",
    "templates/emails/department_transfer*",
    "templates/emails/fixed_followup*",
    "templates/emails/hotspot*",
    "templates/emails/issue_reopened*",
    "templates/emails/overdue_escalation*",
    "templates/emails/report_confirm*",
    "templates/emails/upstream_failing*",
    "templates/emails/ward_digest*",
    "templates/emails/ward_new_issue*",
    "templates/accounts/emails/*",
    "issues/notify/subscriptions.py",
    "issues/models/notify.py",
    "issues/models/escalation.py",
    "issues/models/alerts.py",
    # City assets and adoption, and the feeds (h/assets).
    "templates/issues/assets/*.html",
    "issues/views/assets.py",
    "issues/asset_forms.py",
    "issues/models/adoption.py",
    "issues/services/adoption.py",
    "departments/models/assets.py",
    "issues/opendata/feeds.py",
    "issues/opendata/atom.py",
    "issues/opendata/adoption.py",
    "issues/opendata/files.py",
    # The staff workbench (the admin's own strings: queue, issue page, bulk work, catalogue).
    "templates/admin/**/*.html",
    "issues/admin/*.py",
    "accounts/admin.py",
    "accounts/adminbase.py",
    "accounts/roles.py",
    "accounts/apps.py",
    "departments/apps.py",
    "issues/apps.py",
    "departments/models/__init__.py",
    "departments/translations.py",
    "departments/models/asset_cells.py",
    "departments/models/catalogue.py",
    "departments/models/routing.py",
    "departments/models/upstream.py",
    "departments/models/wards.py",
    "issues/models/__init__.py",
    "issues/models/upstream.py",
    "issues/services/workflow.py",
    "issues/services/bulkjobs.py",
    "issues/services/moderation.py",
    "issues/services/recategorise.py",
    "issues/services/routing.py",
    "issues/services/priorities.py",
    "issues/services/cityupdates.py",
    "issues/services/catalogue.py",
    "issues/services/servicesync.py",
    # labels: the records' field and model names shown in the workbench
    "accounts/models.py",
]


# --- reading a .po --------------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    line: int = 0

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


def read_po(path: Path) -> list[Entry]:
    """Every entry of a .po file, the header ("" msgid) first, obsolete (#~) ones marked."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None
    started = False

    def finish() -> None:
        nonlocal entry, started
        if started:
            entries.append(entry)
        entry, started = Entry(), False

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            finish()
            target = None
            continue
        if line.startswith("#"):
            if target is not None and target[0] != "comment":
                finish()
            target = ("comment", 0)
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and target is not None and target[0] == "msgstr":
            finish()
        if keyword.startswith(("msgctxt", "msgid", "msgstr")):
            started = True
            entry.line = entry.line or number
            entry.obsolete = entry.obsolete or obsolete
            if keyword.startswith("msgstr["):
                target = ("msgstr", int(keyword[7:-1]))
            else:
                target = (keyword, 0)
            line = rest
        _append(entry, target, ast.literal_eval(line) if line else "")
    finish()
    return entries


def _append(entry: Entry, target: tuple[str, int] | None, text: str) -> None:
    kind, index = target or ("", 0)
    if kind == "msgid":
        entry.msgid += text
    elif kind == "msgid_plural":
        entry.msgid_plural = (entry.msgid_plural or "") + text
    elif kind == "msgctxt":
        entry.msgctxt = (entry.msgctxt or "") + text
    elif kind == "msgstr":
        entry.msgstr[index] = entry.msgstr.get(index, "") + text


# --- writing a .mo --------------------------------------------------------------------------


def mo_bytes(entries: list[Entry]) -> bytes:
    """The GNU .mo table of the entries that count: translated, not fuzzy, not obsolete."""
    table: dict[bytes, bytes] = {}
    for entry in entries:
        if entry.obsolete or "fuzzy" in entry.flags or not entry.translated:
            continue
        key = entry.msgid
        if entry.msgid_plural is not None:
            key += "\0" + entry.msgid_plural
        if entry.msgctxt is not None:
            key = entry.msgctxt + "\x04" + key
        strings = [entry.msgstr[i] for i in sorted(entry.msgstr)]
        table[key.encode()] = "\0".join(strings).encode()
    keys = sorted(table)
    ids = strs = b""
    offsets = []
    for key in keys:
        offsets.append((len(ids), len(key), len(strs), len(table[key])))
        ids += key + b"\0"
        strs += table[key] + b"\0"
    header_size = 7 * 4
    ids_start = header_size + 16 * len(keys)
    strs_start = ids_start + len(ids)
    index = []
    for id_offset, id_length, str_offset, str_length in offsets:
        index.append((id_length, ids_start + id_offset, str_length, strs_start + str_offset))
    originals = b"".join(struct.pack("<II", length, offset) for length, offset, _l, _o in index)
    translations = b"".join(struct.pack("<II", length, offset) for _l, _o, length, offset in index)
    header = struct.pack(
        "<7I", 0x950412DE, 0, len(keys), header_size, header_size + 8 * len(keys), 0, 0
    )
    return header + originals + translations + ids + strs


def compile_catalogues(locale_dir: Path = LOCALE_DIR, force: bool = False) -> list[Path]:
    """Writes each .mo older than its .po (or missing); returns the ones written."""
    written = []
    for po in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        partial = mo.with_suffix(".mo.tmp")
        partial.write_bytes(mo_bytes(read_po(po)))
        partial.replace(mo)  # a server reading the catalogue never sees half of one
        written.append(mo)
    return written


# --- extracting (developers, and the completeness test) --------------------------------------


def translated_files(base: Path = BASE_DIR) -> list[Path]:
    return sorted({path for pattern in TRANSLATED for path in base.glob(pattern) if path.is_file()})


def extract(into: Path, locales: list[str] = CATALOGUE_LOCALES, merge_from: Path | None = None):
    """Runs Django's makemessages over TRANSLATED only, in a scratch copy of them, writing
    `into`/<locale>/LC_MESSAGES/django.po (merged with `merge_from`'s catalogues, if given, the
    way makemessages merges) and `into`/django.pot. Needs GNU gettext (xgettext, msgmerge)."""
    from django.core.management import call_command
    from django.test.utils import override_settings

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for path in translated_files():
            copy = root / path.relative_to(BASE_DIR)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
        (root / "locale").mkdir()
        if merge_from is not None and merge_from.is_dir():
            shutil.copytree(merge_from, root / "locale", dirs_exist_ok=True)
        here = os.getcwd()
        os.chdir(root)
        try:
            with override_settings(LOCALE_PATHS=[str(root / "locale")]):
                call_command(
                    "makemessages",
                    locale=locales,
                    extensions=["html", "txt", "py"],
                    keep_pot=True,
                    no_obsolete=True,
                    no_location=False,
                    add_location="file",
                    verbosity=0,
                )
        finally:
            os.chdir(here)
        into.mkdir(parents=True, exist_ok=True)
        shutil.copytree(root / "locale", into, dirs_exist_ok=True)
    for po in into.glob("*/LC_MESSAGES/django.po"):
        _drop_creation_date(po)


def _drop_creation_date(po: Path) -> None:
    """makemessages stamps the header with the extraction's time: an extraction that found no
    new string would still change every catalogue, and GNU msgfmt leaves the field out of the
    .mo while this compiler keeps the header whole (test_catalogues compares the two)."""
    lines = po.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith('"POT-Creation-Date: ')]
    if len(kept) != len(lines):
        po.write_text("".join(kept), encoding="utf-8")


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "compile"
    if command == "compile":
        for mo in compile_catalogues(force="--force" in argv):
            print(f"compiled {mo.relative_to(BASE_DIR)}")
        return 0
    if command == "extract":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        extract(LOCALE_DIR, merge_from=LOCALE_DIR)
        (LOCALE_DIR / "django.pot").unlink(missing_ok=True)
        print("updated locale/*/LC_MESSAGES/django.po: translate the new entries, then `make`")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
