"""Reading exports: encodings, delimiters, line numbers, and clear refusals naming the file."""

import io
import zipfile

import pytest

from pipeline.contract.errors import InputFileError
from pipeline.io.readers import read_table


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("data, encoding, delimiter", [
    ("\ufeffa;b\r\n1;é\r\n".encode("utf-8"), "UTF-8 avec BOM", ";"),
    ("a,b\n1,é\n".encode("utf-8"), "UTF-8", ","),
    ("a;b\r\n1;é\r\n".encode("cp1252"), "Windows-1252", ";"),
    ('"a"\t"b"\n"1"\t"é"\n'.encode("utf-8"), "UTF-8", "\t"),
])
def test_detects_encoding_and_delimiter(tmp_path, data, encoding, delimiter):
    table = read_table(write(tmp_path, "x.csv", data))
    assert (table.encoding, table.delimiter) == (encoding, delimiter)
    assert table.columns == ["a", "b"] and table.rows == [["1", "é"]]


def test_semicolon_file_with_commas_in_values_is_semicolon(tmp_path):
    data = "Titre;Compétences\r\nUn, deux;BC1, BC2\r\nTrois;BC4\r\n".encode("utf-8")
    table = read_table(write(tmp_path, "x.csv", data))
    assert table.delimiter == ";" and table.rows[0] == ["Un, deux", "BC1, BC2"]


def test_multiline_values_keep_their_first_line_number(tmp_path):
    data = 'a;b\r\n"1";"ligne 1\r\nligne 2 ""citée"""\r\n"2";"x"\r\n\r\n'.encode("utf-8")
    table = read_table(write(tmp_path, "x.csv", data))
    assert table.row_numbers == [2, 4]
    assert table.rows[0][1] == 'ligne 1\r\nligne 2 "citée"'
    assert table.blank_lines == 1


def test_three_header_rows(tmp_path):
    data = '"Form"\t""\n"Submission Details"\t"Projet"\n"Serial"\t"Titre"\n"1"\t"T"\n'.encode("utf-8")
    table = read_table(write(tmp_path, "x.tsv", data), header_rows=3)
    assert table.columns == ["Serial", "Titre"] and table.row_numbers == [4]


def test_field_count_mismatch_is_a_row_error_not_a_loss(tmp_path):
    data = "a;b;c\n1;2;3\n4;5\n6;7;8\n".encode("utf-8")
    table = read_table(write(tmp_path, "x.csv", data))
    assert len(table.rows) == 3 and list(table.row_errors) == [1]
    assert "2 champs" in table.row_errors[1]


@pytest.mark.parametrize("data, words", [
    (b"", "vide"),
    (b"\xef\xbb\xbf\r\n", "vide"),
    (b"\x00\x01\x02binary\x00" * 20, "binaire"),
    ("a;b;c\r\n".encode("utf-8"), "que des en-têtes"),
    (b"PK\x03\x04rest", "classeur"),
    ("seule colonne\nvaleur\n".encode("utf-8"), "Séparateur"),
])
def test_unreadable_files_are_refused_with_the_file_name(tmp_path, data, words):
    with pytest.raises(InputFileError) as info:
        read_table(write(tmp_path, "depot.csv", data))
    assert "depot.csv" in str(info.value) and words in str(info.value)


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(InputFileError, match="introuvable.*params.yaml"):
        read_table(tmp_path / "absent.csv")


def test_size_cap(tmp_path):
    path = write(tmp_path, "big.csv", b"a;b\n" + b"1;2\n" * 1000)
    with pytest.raises(InputFileError, match="trop volumineux"):
        read_table(path, limits={"max_file_bytes": 100})


def test_row_cap(tmp_path):
    path = write(tmp_path, "many.csv", b"a;b\n" + b"1;2\n" * 50)
    with pytest.raises(InputFileError, match="Trop de lignes"):
        read_table(path, limits={"max_rows": 10})


def test_xlsx_zip_bomb_refused_before_parsing(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * 50_000_000 + b"</a>")
    path = write(tmp_path, "bomb.xlsx", buffer.getvalue())
    with pytest.raises(InputFileError, match="décompresse.*bomb.xlsx"):
        read_table(path)


def test_broken_xlsx(tmp_path):
    with pytest.raises(InputFileError, match="illisible"):
        read_table(write(tmp_path, "broken.xlsx", b"not a zip"))


def test_xls_refused_with_advice(tmp_path):
    with pytest.raises(InputFileError, match=r"\.xlsx ou \.csv"):
        read_table(write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0"))


def test_a_stated_delimiter_the_file_does_not_use_is_named_as_such(tmp_path):
    path = tmp_path / "depot.csv"
    path.write_bytes("Nom de la structure,Code postal,Titre du projet\r\nCHRS Les Tilleuls,87000,Jardin\r\n".encode())
    with pytest.raises(InputFileError) as info:
        read_table(path, delimiter=";")
    message = str(info.value)
    assert "depot.csv" in message and "point-virgule" in message and "des virgules" in message
    assert "mapping.yaml" in message
    assert read_table(path, delimiter=",").columns == ["Nom de la structure", "Code postal", "Titre du projet"]
    one_column = tmp_path / "liste.csv"  # a genuine one-column file stays readable
    one_column.write_bytes("Identifiant\r\nA001\r\n".encode())
    assert read_table(one_column, delimiter=";").rows == [["A001"]]
