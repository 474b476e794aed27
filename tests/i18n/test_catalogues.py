"""The catalogues are complete: every entry of every language translated, none fuzzy or obsolete,
placeholders intact, and every string of the translated files (config.catalogues.TRANSLATED)
in them. The extraction is Django's makemessages (GNU xgettext), the same a developer runs;
where xgettext is missing that one check skips and says so, the others still run."""

import re
import shutil
from pathlib import Path

import pytest

from config.catalogues import (
    CATALOGUE_LOCALES,
    LOCALE_DIR,
    compile_catalogues,
    extract,
    mo_bytes,
    read_po,
)

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{(\w*)\}")


def catalogue(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "django.po"


def placeholders(text: str) -> set[str]:
    return {"".join(match) for match in PLACEHOLDER.findall(text)}


@pytest.mark.parametrize("locale", CATALOGUE_LOCALES)
def test_every_entry_is_translated_and_none_fuzzy_or_obsolete(locale):
    entries = read_po(catalogue(locale))
    header, *messages = entries
    assert header.msgid == "" and "fuzzy" not in header.flags
    assert "Plural-Forms:" in header.msgstr[0]
    assert messages
    problems = []
    for entry in messages:
        if entry.obsolete:
            problems.append(f"line {entry.line}: obsolete (#~) {entry.msgid!r}")
        elif "fuzzy" in entry.flags:
            problems.append(f"line {entry.line}: fuzzy {entry.msgid!r}")
        elif not entry.translated:
            problems.append(f"line {entry.line}: untranslated {entry.msgid!r}")
    assert problems == []


@pytest.mark.parametrize("locale", CATALOGUE_LOCALES)
def test_placeholders_are_intact(locale):
    plural_count = int(re.search(r"nplurals=(\d+)", read_po(catalogue(locale))[0].msgstr[0])[1])
    problems = []
    for entry in read_po(catalogue(locale))[1:]:
        wanted = placeholders(entry.msgid) | placeholders(entry.msgid_plural or "")
        if entry.msgid_plural is not None and len(entry.msgstr) != plural_count:
            problems.append(f"{entry.msgid!r}: {len(entry.msgstr)} forms, not {plural_count}")
        for index, text in entry.msgstr.items():
            found = placeholders(text)
            # Every form keeps every name it uses from the original, and invents none (GNU msgfmt
            # --check, run below where it exists, also wants every form within msgid_plural's); a
            # singular may leave out the count (Arabic's "one second" needs no number).
            if not found <= wanted:
                problems.append(f"{entry.msgid!r}[{index}]: {sorted(found - wanted)} invented")
            needed = placeholders(entry.msgid) - {"n", "count"}
            if entry.msgid_plural is None and needed - found:
                problems.append(f"{entry.msgid!r}: {sorted(needed - found)} lost")
            if entry.msgid_plural is not None and index == len(entry.msgstr) - 1:
                lost = placeholders(entry.msgid_plural) - found
                if lost:
                    problems.append(f"{entry.msgid!r}[{index}]: {sorted(lost)} lost")
            if text.count("<") != entry.msgid.count("<"):
                problems.append(f"{entry.msgid!r}[{index}]: HTML tags differ")
    assert problems == []


@pytest.mark.skipif(
    not shutil.which("xgettext"),
    reason="extraction needs GNU gettext's xgettext (apt-get install gettext); .ci/run has it",
)
def test_every_string_of_the_translated_files_is_in_every_catalogue(tmp_path, settings):
    extract(tmp_path)
    wanted = {entry.key for entry in read_po(tmp_path / "django.pot") if entry.msgid}
    assert len(wanted) > 200
    for locale in CATALOGUE_LOCALES:
        have = {entry.key for entry in read_po(catalogue(locale)) if entry.msgid}
        assert sorted(wanted - have, key=str) == [], f"{locale}: not in the catalogue"
        # And nothing stale: an entry no translated file uses any more is dead weight.
        assert sorted(have - wanted, key=str) == [], f"{locale}: no longer used"


def test_the_pure_python_compiler_matches_gettexts_reading(tmp_path):
    import gettext

    for locale in CATALOGUE_LOCALES:
        mo = tmp_path / f"{locale}.mo"
        mo.write_bytes(mo_bytes(read_po(catalogue(locale))))
        with mo.open("rb") as handle:
            translations = gettext.GNUTranslations(handle)
        for entry in read_po(catalogue(locale))[1:]:
            if entry.msgid_plural is None and entry.msgctxt is None:
                assert translations.gettext(entry.msgid) == entry.msgstr[0]
    if shutil.which("msgfmt"):
        import subprocess

        for locale in CATALOGUE_LOCALES:
            theirs = tmp_path / f"{locale}-msgfmt.mo"
            subprocess.run(["msgfmt", "--check", "-o", theirs, catalogue(locale)], check=True)
            with theirs.open("rb") as a, (tmp_path / f"{locale}.mo").open("rb") as b:
                assert gettext.GNUTranslations(a)._catalog == gettext.GNUTranslations(b)._catalog


def test_fuzzy_untranslated_and_obsolete_entries_never_reach_the_mo(tmp_path):
    po = tmp_path / "xx" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Map"\nmsgstr "Mapa"\n\n'
        '#, fuzzy\nmsgid "Data"\nmsgstr "Datos"\n\n'
        'msgid "Wards"\nmsgstr ""\n\n'
        '#~ msgid "Old"\n#~ msgstr "Viejo"\n',
        encoding="utf-8",
    )
    assert compile_catalogues(tmp_path) == [po.with_suffix(".mo")]
    assert compile_catalogues(tmp_path) == []  # up to date: nothing written
    import gettext

    with po.with_suffix(".mo").open("rb") as handle:
        translations = gettext.GNUTranslations(handle)
    assert translations.gettext("Map") == "Mapa"
    for english in ("Data", "Wards", "Old"):
        assert translations.gettext(english) == english
