from datetime import datetime

import pytest

from pipeline.io import normalise as n


@pytest.mark.parametrize("postcode, dept", [
    ("87000", "87"), ("86999", "86"), ("23000", "23"), ("19100", "19"), ("01000", "01"),
    ("20000", "2A"), ("20200", "2B"), ("97400", "974"), ("98800", "988"), ("8700", None), ("", None), (None, None),
])
def test_postcode_to_departement(postcode, dept):
    assert n.postcode_to_departement(postcode) == dept


def test_clean_postcode_removes_spaces_and_never_completes_a_short_code():
    assert n.clean_postcode("87 000") == ("87000", None)
    assert n.clean_postcode("") == (None, None)
    value, reason = n.clean_postcode("8700")  # 87000 missing a digit would become 08700 (Ardennes) if completed
    assert value is None and reason.startswith("« 8700 » n'a que 4 chiffres")


@pytest.mark.parametrize("raw", ["12 5", "1 05", "10 5,5", "1  200"])
def test_a_space_inside_a_number_is_refused_as_typed_unless_it_groups_thousands(raw):
    for parse in (n.parse_number, n.parse_integer):
        value, reason = parse(raw)
        assert value is None and f"« {raw} »" in reason


def test_thousands_spaces_are_read():
    assert n.parse_integer("1 200") == (1200, None)
    assert n.parse_integer("24\u202f118") == (24118, None)
    assert n.parse_number("1 050,5 h") == (1050.5, None)


@pytest.mark.parametrize("raw, value", [("105", 105.0), ("105,5", 105.5), ("105.5", 105.5), ("52,5 h", 52.5),
                                        ("90 heures", 90.0), ("1 050", 1050.0), ("", None)])
def test_parse_number(raw, value):
    assert n.parse_number(raw) == (value, None)


def test_parse_number_reason_cites_value():
    value, reason = n.parse_number("une centaine")
    assert value is None and "« une centaine »" in reason


def test_parse_integer():
    assert n.parse_integer("5") == (5, None)
    assert n.parse_integer("5,0") == (5, None)
    assert n.parse_integer("5,5")[1] is not None
    assert n.parse_integer("cinq")[1] == "« cinq » n'est pas un nombre entier"


def test_parse_boolean():
    vocab = {True: ["Oui", "Y"], False: ["Non"]}
    assert n.parse_boolean("oui ", vocab) == (True, None)
    assert n.parse_boolean("Y", vocab) == (True, None)
    assert n.parse_boolean("NON", vocab) == (False, None)
    assert n.parse_boolean("", vocab) == (None, None)
    assert "peut-être" in n.parse_boolean("peut-être", vocab)[1]


def test_parse_datetime_formats_and_minute():
    formats = ["%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S"]
    assert n.parse_datetime("15/07/2025 14:32", formats) == (datetime(2025, 7, 15, 14, 32), None)
    assert n.parse_datetime("2025-07-15 23:59:00", formats) == (datetime(2025, 7, 15, 23, 59), None)
    value, reason = n.parse_datetime("15 juillet", formats)
    assert value is None and "jj/mm/aaaa hh:mm" in reason


def test_parse_multi_with_vocabulary_keeps_labels_with_commas():
    values = {"BC2 - Identifier et analyser les besoins, les attentes": "BC2", "BC4 - Concevoir un projet": "BC4"}
    text = "BC2 - Identifier et analyser les besoins, les attentes, BC4 - Concevoir un projet"
    assert n.parse_multi(text, values, [","]) == (["BC2", "BC4"], None)
    assert n.parse_multi("BC4", values, [","]) == (["BC4"], None)
    codes, reason = n.parse_multi("BC4, BC9 - Inconnu", values, [","])
    assert codes == ["BC4"] and "bc9" in reason


def test_parse_multi_without_vocabulary_splits():
    assert n.parse_multi("ES | EJE", {}, ["|", ","]) == (["EJE", "ES"], None)
    assert n.parse_multi("l&#039;enfant, &amp; co", {}, [","]) == (["& co", "l'enfant"], None)


def test_clean_text_keeps_hostile_prefixes():
    assert n.clean_text("  =HYPERLINK(\"x\")  ") == ("=HYPERLINK(\"x\")", None)
    assert n.clean_text("+33 5 36 49 12 34") == ("+33 5 36 49 12 34", None)
    assert n.clean_text("- a\r\n- b", multiline=True) == ("- a\n- b", None)


def test_fold():
    assert n.fold("  Établissement  d’accueil ") == "etablissement d'accueil"
