"""Stage 90 ``quality`` — Great Expectations suites run on the clean tables of an edition.

The suites are data: ``schemas/expectations/*.yaml`` (format in that folder's README), one per clean
table and one per **derived table** (a join or a count built here from tables declared before it, so
that cross-table rules — every assigned learner is in the roster, every team within its bounds — are
ordinary expectations). Thresholds and value sets come from the suite or from the edition's settings,
never from this module.

This is the only module of stagesco that imports Great Expectations (≈ 5–10 s to import): it runs on an
ephemeral context (nothing written to disk), with analytics and progress bars off. A failed
expectation is a result, never an error of the stage.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..contract.config import Edition
from ..contract.errors import ConfigError
from ..io import fr
from ..contract.config import parse_yaml

SUITES_DIR = Path(__file__).resolve().parents[2] / "schemas" / "expectations"
KEYS_SHOWN = 10  # failing row keys listed per expectation (the workbook lists them all)
REFERENCE_KINDS = ("edition", "edition_keys", "params_keys", "params_items", "rule")
STEP_KINDS = ("from", "merge", "count_by", "contains", "map_config")


# ------------------------------------------------------------------------------------------ suites

@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation as the suite declares it (kwargs may still hold references to settings)."""

    id: str
    type: str
    kwargs: dict
    description: str
    unless: str | None = None  # an edition.yaml setting that, when true, allows what it checks (not generated)


@dataclass(frozen=True)
class Suite:
    """The expectations of one table: a clean table (``source``) or a derived one (``steps``)."""

    table: str
    label: str
    description: str
    file: str
    key: tuple[str, ...]
    expectations: tuple[ExpectationSpec, ...]
    source: str | None = None
    steps: tuple[dict, ...] = ()

    @property
    def derived(self) -> bool:
        return self.source is None


def load_suites(folder: Path = SUITES_DIR) -> list[Suite]:
    """Every suite of ``folder``, in file-name order; a malformed suite is a French error naming it."""
    suites: list[Suite] = []
    seen: set[str] = set()
    for path in sorted(folder.glob("*.yaml")):
        data = parse_yaml(path.read_text(encoding="utf-8")) or {}
        where = f"schemas/expectations/{path.name}"
        for required in ("table", "label", "description", "key", "expectations"):
            if required not in data:
                raise ConfigError(f"Clé « {required} » absente de la suite", file=where)
        if ("source" in data) == ("steps" in data):
            raise ConfigError("Une suite décrit soit une table propre (source), soit une table dérivée (steps)",
                              file=where)
        table = str(data["table"])
        if table in seen:
            raise ConfigError(f"Table « {table} » décrite deux fois", file=where)
        for step in data.get("steps") or []:
            kinds = [k for k in step if k in STEP_KINDS]
            if len(kinds) != 1:
                raise ConfigError(f"Étape de construction inconnue : {step}", file=where,
                                  hint=f"Étapes connues : {', '.join(STEP_KINDS)}")
            if kinds[0] in ("from", "merge"):
                other = step["from"] if kinds[0] == "from" else step["merge"].get("with")
                other = other["table"] if isinstance(other, dict) else other
                if other not in seen:
                    raise ConfigError(f"Table « {other} » inconnue ou décrite après « {table} »", file=where)
        expectations = []
        for i, spec in enumerate(data["expectations"], start=1):
            if not spec.get("type") or not spec.get("description"):
                raise ConfigError(f"L'attente n° {i} doit avoir un type et une description", file=where)
            expectations.append(ExpectationSpec(id=str(spec.get("id") or f"{table}-{i:02d}"), type=str(spec["type"]),
                                                kwargs=dict(spec.get("kwargs") or {}),
                                                description=fr.typeset(str(spec["description"]).strip()),
                                                unless=str(spec["unless"]) if spec.get("unless") else None))
        key = data["key"] if isinstance(data["key"], list) else [data["key"]]
        suites.append(Suite(table=table, label=str(data["label"]), description=fr.typeset(str(data["description"]).strip()), file=where, key=tuple(key),
                            expectations=tuple(expectations), source=data.get("source"),
                            steps=tuple(data.get("steps") or ())))
        seen.add(table)
    if not suites:
        raise ConfigError("Aucune suite d'attentes", file="schemas/expectations/")
    return suites


def sources(suites: list[Suite]) -> list[str]:
    """The earlier outputs the suites read (relative to ``outputs/<edition>/``)."""
    return [s.source for s in suites if s.source]


# -------------------------------------------------------------------------- references to settings

def _lookup(data: Any, path: str, origin: str) -> Any:
    value = data
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ConfigError(f"Réglage « {path} » introuvable", file=origin,
                              hint="Une suite d'attentes (schemas/expectations/) y fait référence")
        value = value[part]
    return value


class NotApplicable(Exception):
    """An expectation about a rule or setting the edition does not have: it is not generated (the report
    says which and why)."""


def rule_setting(reference: dict, edition: Edition) -> Any:
    """``{rule: <check or list of checks>, field: <field>, param: <name>}``: the parameter ``name`` of the
    edition's hard eligibility rule running that check (on ``field`` when given), whatever the rule's id —
    the first such rule in the edition's order. :class:`NotApplicable` when the edition has no such rule."""
    checks = reference["rule"] if isinstance(reference["rule"], list) else [reference["rule"]]
    check = " ou ".join(f"« {c} »" for c in checks)
    field_name, param = reference.get("field"), str(reference.get("param", ""))
    rules = ((edition.config.get("eligibility") or {}).get("rules")) or {}
    for spec in rules.values():
        spec = spec or {}
        if spec.get("kind") == "hard" and spec.get("check") in checks and param in spec \
                and (field_name is None or spec.get("field") == field_name):
            return spec[param]
    from schemas.fields import all_fields

    meta = all_fields().get(str(field_name)) if field_name else None
    on = f" sur le champ « {meta.label if meta else field_name} »" if field_name else ""
    raise NotApplicable(f"l'édition n'a pas de règle d'éligibilité impérative {check}{on} "
                        f"(paramètre « {param} »)")


def resolve(value: Any, edition: Edition) -> Any:
    """``value`` with every reference to the edition's or the project's settings replaced by its value;
    :class:`NotApplicable` for a rule or an ``edition.yaml`` setting the edition does not have."""
    if isinstance(value, dict) and any(k in value for k in REFERENCE_KINDS):
        kind = next(k for k in REFERENCE_KINDS if k in value)
        path = str(value[kind])
        if kind == "rule":
            found = rule_setting(value, edition)
        elif kind.startswith("edition"):
            try:
                found = _lookup(edition.config, path, f"inputs/{edition.name}/edition.yaml")
            except ConfigError:
                raise NotApplicable(f"le réglage « {path} » est absent de edition.yaml") from None
            found = _lookup(edition.config, path, f"inputs/{edition.name}/edition.yaml")
        else:
            found = _lookup(edition.params.data, path, "params.yaml")
        if kind.endswith("_keys"):
            found = list(found)
        elif kind == "params_items":
            found = [[k, v] for k, v in found.items()]
        if "add" in value:
            found = found + value["add"]
        return found
    if isinstance(value, dict):
        return {k: resolve(v, edition) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, edition) for v in value]
    return value


def config_sections(suites: list[Suite]) -> set[str]:
    """The top-level sections of ``edition.yaml`` the suites refer to (the stage's DVC params)."""
    found: set[str] = set()

    def walk(value):
        if isinstance(value, dict):
            for kind in ("edition", "edition_keys"):
                if kind in value:
                    found.add(str(value[kind]).split(".")[0])
            if "rule" in value:
                found.add("eligibility")
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for suite in suites:
        for spec in suite.expectations:
            walk(spec.kwargs)
        for step in suite.steps:
            if "map_config" in step:
                found.add(str(step["map_config"]["path"]).split(".")[0])
    return found


# ----------------------------------------------------------------------------------- derived tables

def build_tables(suites: list[Suite], clean: dict[str, pd.DataFrame],
                 edition: Edition) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Every table the suites check: the clean ones as read, the derived ones built in order; and, for a
    derived table that cannot be built (a column or a table missing), why — its expectations then fail."""
    tables: dict[str, pd.DataFrame] = {}
    broken: dict[str, str] = {}
    for suite in suites:
        if not suite.derived:
            tables[suite.table] = clean[suite.table].reset_index(drop=True)
            continue
        try:
            frame = None
            for step in suite.steps:
                frame = _step(frame, step, tables, edition)
            tables[suite.table] = frame.reset_index(drop=True)
        except KeyError as exc:
            missing = exc.args[0] if exc.args else exc
            broken[suite.table] = f"table dérivée impossible à construire : {missing!s} absent"
        except NotApplicable as why:
            broken[suite.table] = f"table dérivée impossible à construire : {why}"
    return tables, broken


def _step(frame: pd.DataFrame | None, step: dict, tables: dict[str, pd.DataFrame], edition: Edition) -> pd.DataFrame:
    if "from" in step:
        spec = step["from"]
        source = tables[spec["table"] if isinstance(spec, dict) else spec].copy()
        return source[list(spec["columns"])] if isinstance(spec, dict) and "columns" in spec else source
    if "merge" in step:
        spec = step["merge"]
        on = list(spec["keys"])
        columns = spec.get("columns") or {}
        renames = columns if isinstance(columns, dict) else {c: c for c in columns}
        right = tables[spec["with"]][on + list(renames)].rename(columns=renames)
        presence = spec.get("presence") or {}
        left_flag, right_flag = "__left", "__right"
        merged = frame.assign(**{left_flag: True}).merge(right.assign(**{right_flag: True}), on=on,
                                                         how=spec.get("how", "left"), sort=False)
        for side, flag in (("left", left_flag), ("right", right_flag)):
            if side in presence:
                merged[presence[side]] = merged[flag].eq(True)
        return merged.drop(columns=[left_flag, right_flag])
    if "count_by" in step:
        spec = step["count_by"]
        return frame.groupby(list(spec["by"]), sort=True, dropna=False).size().reset_index(name=spec["as"])
    if "contains" in step:
        spec = step["contains"]

        def member(items, value):
            if items is None or (not isinstance(items, (list, tuple, np.ndarray)) and pd.isna(items)) or pd.isna(value):
                return None
            return value in list(items)

        frame = frame.copy()
        frame[spec["as"]] = pd.Series([member(i, v) for i, v in zip(frame[spec["list"]], frame[spec["value"]])],
                                      index=frame.index, dtype=object)
        return frame
    if "map_config" in step:
        spec = step["map_config"]
        mapping = resolve({"edition": spec["path"]}, edition)
        frame = frame.copy()
        frame[spec["as"]] = frame[spec["column"]].map(lambda v: mapping.get(v) if isinstance(mapping, dict) else None)
        return frame
    raise ConfigError(f"Étape de construction inconnue : {step}")


def for_gx(frame: pd.DataFrame) -> pd.DataFrame:
    """pandas' nullable dtypes as plain ones (NaN / None): GX compares values with ``<``, and ``pd.NA``
    has no truth value."""
    out = frame.copy()
    for name, dtype in out.dtypes.items():
        if isinstance(dtype, (pd.Int64Dtype, pd.Float64Dtype)) or str(dtype) in ("Int64", "Int32", "Float64"):
            out[name] = out[name].astype("float64")
        elif str(dtype) == "boolean":
            out[name] = out[name].astype(object).where(out[name].notna(), None)
        elif isinstance(dtype, pd.StringDtype) or str(dtype) == "str":
            out[name] = out[name].astype(object).where(out[name].notna(), None)
    return out


# -------------------------------------------------------------------------------------- validation

@dataclass
class Outcome:
    """The result of one expectation, ready to show (no GX object)."""

    table: str
    table_label: str
    id: str
    type: str
    description: str
    kwargs: dict
    success: bool
    unexpected_count: int | None = None
    element_count: int | None = None
    observed: Any = None
    keys: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class Skipped:
    """An expectation of a suite not generated for this edition, and why (a rule it does not have)."""

    table: str
    table_label: str
    id: str
    description: str
    reason: str


@dataclass
class QualityResult:
    suites: list[Suite]
    tables: dict[str, pd.DataFrame]
    outcomes: list[Outcome]
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def metrics(self) -> dict:
        return {"expectations": len(self.outcomes), "expectations_failed": len(self.failed),
                "tables": len(self.suites)}


def great_expectations():
    """Great Expectations, imported with analytics off and its warnings and logs kept out of reports."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    return gx


def expectation_class(gx, type_name: str):
    """The GX class of an expectation type (``expect_column_values_to_be_unique``), or a French error."""
    from great_expectations.expectations.registry import get_expectation_impl

    try:
        return get_expectation_impl(type_name)
    except Exception:
        raise ConfigError(f"Type d'attente inconnu de Great Expectations : « {type_name} »",
                          file="schemas/expectations/",
                          hint="Voir la liste des attentes de Great Expectations (expect_…)") from None


OPERATORS = {"==": "__eq__", "!=": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__",
             "in": "is_in", "not_in": "is_not_in", "is_null": "is_null", "is_not_null": "is_not_null"}


def row_condition(spec):
    """A suite's row condition ``[column, operator, value]`` (or ``[column, is_null]``) as a GX
    ``Condition`` (string conditions are deprecated since GX 1.9)."""
    from great_expectations.expectations.row_conditions import Column

    if not isinstance(spec, (list, tuple)) or len(spec) not in (2, 3) or spec[1] not in OPERATORS:
        raise ConfigError(f"Condition de ligne illisible : {spec}", file="schemas/expectations/",
                          hint=f"Écrivez [colonne, opérateur, valeur] ; opérateurs : {', '.join(OPERATORS)}")
    method = getattr(Column(str(spec[0])), OPERATORS[spec[1]])
    return method(*spec[2:])


def gx_kwargs(kwargs: dict) -> dict:
    """Resolved suite arguments as GX takes them."""
    return {k: (row_condition(v) if k == "row_condition" else v) for k, v in kwargs.items()}


def context(gx):
    """An ephemeral GX context (in memory only: no Data Docs site, not even a temporary one), analytics
    and progress bars off."""
    from great_expectations.data_context.types.base import (DataContextConfig, InMemoryStoreBackendDefaults,
                                                            ProgressBarsConfig)

    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                               analytics_enabled=False,
                               progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False))
    return gx.get_context(mode="ephemeral", project_config=config)


def _allowed(edition: Edition, path: str) -> bool:
    """Whether the edition's setting ``path`` (``applications.allow_unplaced``) is set and true."""
    try:
        return _lookup(edition.config, path, "") is True
    except ConfigError:
        return False


def applicable(suite: Suite, edition: Edition, skipped: list[Skipped] | None = None) -> list[tuple[ExpectationSpec, dict]]:
    """The suite's expectations with their arguments resolved for ``edition``; one about a rule or setting
    the edition lacks is left out and recorded in ``skipped``."""
    out = []
    for spec in suite.expectations:
        try:
            if spec.unless and _allowed(edition, spec.unless):
                raise NotApplicable(f"l'édition admet ce cas (« {spec.unless} : true » dans edition.yaml)")
            out.append((spec, resolve(spec.kwargs, edition)))
        except NotApplicable as why:
            if skipped is not None:
                skipped.append(Skipped(suite.table, suite.label, spec.id, spec.description, str(why)))
    return out


def validate(suites: list[Suite], tables: dict[str, pd.DataFrame], edition: Edition,
             broken: dict[str, str] | None = None, skipped: list[Skipped] | None = None) -> list[Outcome]:
    """Run every suite on its table; one :class:`Outcome` per applicable expectation, in the suites' order
    (the others go to ``skipped``)."""
    broken = broken or {}
    gx = great_expectations()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = context(gx)
        source = ctx.data_sources.add_pandas("stagesco")
        outcomes: list[Outcome] = []
        for suite in suites:
            specs = {spec.id: (spec, kwargs) for spec, kwargs in applicable(suite, edition, skipped)}
            if suite.table in broken:
                for spec, kwargs in specs.values():
                    expectation_class(gx, spec.type)
                    outcomes.append(Outcome(table=suite.table, table_label=suite.label, id=spec.id, type=spec.type,
                                            description=spec.description, kwargs=kwargs,
                                            success=False, error=broken[suite.table]))
                continue
            if not specs:
                continue
            frame = for_gx(tables[suite.table])
            batch = source.add_dataframe_asset(suite.table).add_batch_definition_whole_dataframe("table") \
                .get_batch(batch_parameters={"dataframe": frame})
            gx_suite = ctx.suites.add(gx.ExpectationSuite(name=suite.table, expectations=[
                expectation_class(gx, spec.type)(**gx_kwargs(kwargs), meta={"stagesco_id": spec.id})
                for spec, kwargs in specs.values()]))
            keys = [k for k in suite.key if k in frame.columns]
            result = batch.validate(gx_suite, result_format={"result_format": "COMPLETE",
                                                             "unexpected_index_column_names": keys,
                                                             "return_unexpected_index_query": False})
            by_id = {r.expectation_config.meta.get("stagesco_id"): r for r in result.results}
            for spec, kwargs in specs.values():
                outcomes.append(_outcome(suite, spec, kwargs, by_id.get(spec.id), keys))
    return outcomes


def _outcome(suite: Suite, spec: ExpectationSpec, kwargs: dict, result, keys: list[str]) -> Outcome:
    outcome = Outcome(table=suite.table, table_label=suite.label, id=spec.id, type=spec.type,
                      description=spec.description, kwargs=kwargs, success=False)
    if result is None:
        outcome.error = "attente non évaluée"
        return outcome
    info = result.exception_info or {}
    raised = info.get("raised_exception") if isinstance(info, dict) and "raised_exception" in info else \
        any(v.get("raised_exception") for v in info.values() if isinstance(v, dict))
    if raised:
        message = info.get("exception_message") if "exception_message" in info else next(
            (v.get("exception_message") for v in info.values() if isinstance(v, dict) and v.get("exception_message")), "")
        outcome.error = f"vérification impossible : {str(message).splitlines()[0][:200] if message else 'erreur'}"
        return outcome
    outcome.success = bool(result.success)
    details = result.result or {}
    if "unexpected_count" in details:
        outcome.unexpected_count = int(details["unexpected_count"])
        outcome.element_count = int(details.get("element_count") or 0)
        outcome.keys = _keys(details.get("unexpected_index_list") or [], keys)
    if "observed_value" in details:
        outcome.observed = _plain(details["observed_value"])
    return outcome


def _plain(value):
    """A GX value as plain Python (numpy scalars and arrays unwrapped)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def key_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "∅"
    value = _plain(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _keys(rows: list, keys: list[str]) -> list[str]:
    """The failing rows as key texts (« A250001 », « A250001 / 2 »), in table order, each once."""
    out: list[str] = []
    for row in rows:
        if isinstance(row, dict) and keys:
            text = " / ".join(key_text(row.get(k)) for k in keys)
        else:
            text = f"ligne {key_text(row)}"
        if text not in out:
            out.append(text)
    return out


def run_suites(edition: Edition, clean: dict[str, pd.DataFrame], suites: list[Suite] | None = None) -> QualityResult:
    """Build the derived tables and run every suite (the stage without its outputs)."""
    suites = suites if suites is not None else load_suites()
    tables, broken = build_tables(suites, clean, edition)
    skipped: list[Skipped] = []
    outcomes = validate(suites, tables, edition, broken, skipped)
    return QualityResult(suites=suites, tables=tables, outcomes=outcomes, skipped=skipped)


def messages(result: QualityResult) -> list[str]:
    """One French line per failed expectation (the stage's points of attention)."""
    lines = []
    for o in result.failed:
        detail = o.error or (f"{fr.count(o.unexpected_count, 'ligne')} en écart" if o.unexpected_count else
                             f"valeur observée : {display_value(o.observed)}")
        sample = f" ({', '.join(o.keys[:5])}{', …' if len(o.keys) > 5 else ''})" if o.keys else ""
        lines.append(f"{o.table_label} — attente non satisfaite : {o.description} {detail}{sample}")
    return lines


def display_value(value) -> str:
    """A result value in French notation (decimal comma)."""
    from ..io.html import display

    if isinstance(value, list):
        return ", ".join(display_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} : {display_value(v)}" for k, v in value.items())
    return display(value)
