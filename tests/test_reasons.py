"""Why a stage must run again, in the analyst's words (the cockpit's status line), from DVC's status."""

from __future__ import annotations

import copy

from pipeline.cockpit import reasons
from pipeline.contract.config import Edition
from tests.conftest import ROOT


def demo(changed_max: int | None = None) -> Edition:
    edition = Edition.load("demo", ROOT)
    if changed_max is not None:
        config = copy.deepcopy(edition.config)
        config["eligibility"]["rules"]["hours"]["max"] = changed_max
        edition = Edition(name=edition.name, params=edition.params, config=config)
    return edition


LOCK = {"eligibility@demo": {"params": {"inputs/demo/edition.yaml": {"eligibility": demo().config["eligibility"]}}}}


def test_a_stage_never_run_says_so_not_sixty_files():
    entries = [{"changed deps": {f"pipeline/x{i}.py": "new" for i in range(60)}}]
    assert reasons.describe(demo(), "eligibility@demo", entries, {}) == "jamais exécutée"


def test_a_changed_threshold_is_named_with_its_old_and_new_value():
    entries = [{"changed deps": {"inputs/demo/edition.yaml": {"eligibility": "modified"}}}]
    assert (reasons.describe(demo(100), "eligibility@demo", entries, LOCK)
            == "les réglages ont changé : eligibility.rules.hours.max 105 → 100")


def test_inputs_upstream_code_and_outputs_in_words():
    entries = [{"changed deps": {"inputs/demo/candidatures_moodle.csv": "modified",
                                 "outputs/demo/commission/projets_retenus.parquet": "modified",
                                 "pipeline/stages/applications.py": "modified", "uv.lock": "modified"}},
               {"changed outs": {"outputs/demo/eligibility/report.html": "deleted"}}]
    line = reasons.describe(demo(), "eligibility@demo", entries, LOCK)
    assert line == ("un fichier d'entrée a changé : candidatures_moodle.csv ; l'étape 30 a de nouveaux résultats ; "
                    "un résultat manque ou a été modifié hors de stagesco : report.html ; stagesco a été mis à jour")
    assert "pipeline/" not in line


def test_setting_changes_name_added_and_removed_keys():
    assert reasons.setting_changes({"a": {"b": 1, "c": [1, 2]}}, {"a": {"b": 1, "d": "x"}}) == [
        "a.c [1, 2] → (absent)", "a.d (absent) → x"]
