"""docs/checks.md against the code: its generated tables are what `python -m greenlight_cli.checks_doc` writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from greenlight.checks import KINDS, check_class
from greenlight.spec.schema import Obj
from greenlight_cli import checks_doc

DOC = Path(__file__).resolve().parents[2] / "docs" / "checks.md"


def test_checks_doc_is_what_the_generator_writes() -> None:
    # GIVEN the committed document
    current = DOC.read_text(encoding="utf-8")

    # WHEN the generator renders it from the kinds' schemas and class attributes
    wanted = checks_doc.render(current)

    # THEN nothing differs
    assert wanted == current, f"docs/checks.md is out of date: run `.venv/bin/{checks_doc.COMMAND}`"


def test_checks_doc_has_a_generated_section_per_kind() -> None:
    # GIVEN the committed document
    current = DOC.read_text(encoding="utf-8")

    # WHEN / THEN every registered kind has its heading and its generated field table, and the kinds table names it
    for kind in KINDS:
        assert f"\n## `{kind}`\n" in current, kind
        assert f"<!-- generated: fields {kind};" in current, kind
        assert f"| [`{kind}`](#{kind}) |" in current, kind


def _fields(schema: Obj, prefix: str = "") -> list[tuple[str, str]]:
    found = []
    for name, f in schema.fields.items():
        found.append((prefix + name, f.doc))
        if isinstance(f.type, Obj):
            found += _fields(f.type, f"{prefix}{name}.")
    return found


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_field_of_every_kind_says_what_it_means(kind: str) -> None:
    # GIVEN a kind's schema
    schema = check_class(kind).schema
    assert isinstance(schema, Obj)

    # WHEN / THEN each field (nested ones too, except plain groupings) has a doc for the table's meaning column
    undocumented = [name for name, doc in _fields(schema) if not doc]
    assert undocumented == [], f"{kind}: fields without doc=: {undocumented}"


def test_checks_doc_check_mode_fails_on_a_stale_document_and_names_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a copy of the document whose http table lost a row
    stale = tmp_path / "checks.md"
    text = DOC.read_text(encoding="utf-8")
    stale.write_text(re.sub(r"^\| `method` \|.*\n", "", text, count=1, flags=re.M), encoding="utf-8")

    # WHEN it is checked
    code = checks_doc.main([str(stale), "--check"])

    # THEN it fails naming the command; without --check it is rewritten to the current text
    assert code == 1
    assert checks_doc.COMMAND in capsys.readouterr().err
    assert checks_doc.main([str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == text


def test_checks_doc_refuses_a_section_for_an_unregistered_kind() -> None:
    # GIVEN a document with a generated block for a kind nobody registered
    text = "<!-- generated: fields teleport -->\n<!-- end generated -->\n"

    # WHEN / THEN the generator says so instead of dropping or keeping it silently
    with pytest.raises(checks_doc.DocError, match="kind 'teleport'"):
        checks_doc.render(text)
