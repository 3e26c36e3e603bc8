"""Expected problems cross a stage's Jupyter kernel as themselves (fast: no kernel, IPython's own hook)."""

from __future__ import annotations

from pipeline.contract.errors import MARKER, ConfigError, StageError, StagescoError
from pipeline.stages.commission import DecisionWorkbookError


def test_a_stage_error_comes_back_with_its_class_message_place_and_problems():
    raised = DecisionWorkbookError("Le classeur de décisions contient 2 problèmes bloquants",
                                   file="decisions_commission.xlsx", hint="Corrigez le classeur et relancez",
                                   problems=["ligne 3 : décision « peut-être » inconnue", "ligne 7 : effectif maximum vide"])
    lines = raised._render_traceback_()  # what IPython prints, and papermill hands over as the traceback
    assert len(lines) == 1 and lines[0].startswith(MARKER)
    back = StagescoError.from_traceback(["Traceback (most recent call last):", *lines])
    assert isinstance(back, StageError) and back.kind == "DecisionWorkbookError"
    assert back.problems == raised.problems and back.file == raised.file and back.hint == raised.hint
    assert str(back) == str(raised) == (
        "Le classeur de décisions contient 2 problèmes bloquants (fichier decisions_commission.xlsx). "
        "Corrigez le classeur et relancez\n- ligne 3 : décision « peut-être » inconnue\n- ligne 7 : effectif maximum vide")
    assert "erreur inattendue" not in str(back)


def test_a_bug_has_no_marker_and_stays_unexpected():
    assert StagescoError.from_traceback(["Traceback (most recent call last):", "KeyError: 'x'"]) is None
    assert ConfigError("Colonne introuvable", column="Titre").kind == "ConfigError"


def test_ipython_prints_the_marker_line_for_a_stagesco_error():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shown = []
    shell._showtraceback = lambda etype, evalue, stb: shown.append(stb)
    shell.run_cell("from pipeline.contract.errors import ConfigError\n"
                   "raise ConfigError('Colonne introuvable', column='Titre', problems=['a', 'b'])")
    back = StagescoError.from_traceback(shown[-1])
    assert back is not None and back.kind == "ConfigError" and back.problems == ["a", "b"] and back.column == "Titre"


def test_a_run_prints_the_points_of_attention_of_each_stage_it_ran(tmp_path):
    """What a stage's warnings.json says reaches the terminal: the count, the first few, where to read the rest."""
    import json

    from pipeline.contract.runner import SHOWN_WARNINGS, warning_lines

    assert warning_lines(tmp_path, "outputs/x/projects/report.html") == []  # no file: nothing to say
    (tmp_path / "warnings.json").write_text("[]", encoding="utf-8")
    assert warning_lines(tmp_path, "r.html") == []
    one = ["Champ « Effectif maximum proposé » (team_max) : aucune des colonnes prévues n'est dans depot.csv"]
    (tmp_path / "warnings.json").write_text(json.dumps(one), encoding="utf-8")
    assert warning_lines(tmp_path, "r.html") == ["    1 point d'attention :", f"    - {one[0]}"]
    many = [f"ligne {i} : motif" for i in range(SHOWN_WARNINGS + 2)]
    (tmp_path / "warnings.json").write_text(json.dumps(many), encoding="utf-8")
    lines = warning_lines(tmp_path, "outputs/x/projects/report.html")
    assert lines[0] == f"    {SHOWN_WARNINGS + 2} points d'attention :" and len(lines) == SHOWN_WARNINGS + 2
    assert lines[-1] == "    - et 2 autres : voir outputs/x/projects/report.html"


def test_a_missing_export_saved_under_another_extension_is_pointed_at(tmp_path):
    from pipeline.cockpit.status import namesake

    folder = tmp_path / "2026"
    folder.mkdir()
    assert namesake(folder / "depot_projets.csv") == ""
    (folder / "depot_projets.xlsx").write_bytes(b"PK")
    said = namesake(folder / "depot_projets.csv")
    assert "« depot_projets.xlsx »" in said and "editions.2026.files" in said
