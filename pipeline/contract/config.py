"""Reading ``params.yaml`` (editions, stage table, shared settings) and an edition's ``edition.yaml``.

An edition is data: ``inputs/<edition>/edition.yaml`` (dates, thresholds, seed, vocabularies),
``inputs/<edition>/mapping.yaml`` (the form's column labels → canonical fields) and the export files
named in ``params.yaml`` under ``editions.<edition>.files``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .paths import inputs_dir, outputs_dir, project_root

EDITION_FILE = "edition.yaml"
MAPPING_FILE = "mapping.yaml"


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load`` with libyaml's loader when PyYAML has it (dvc.lock of four editions: 2 s → 0.1 s)."""
    return yaml.load(text, Loader=_LOADER)


def read_yaml(path: Path) -> Any:
    """Load a YAML file, turning a missing or malformed file into a French message naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("Fichier de configuration absent", file=str(path.name),
                          hint=f"Créez {path.name} dans {path.parent.name}/ (voir README, « Ajouter une édition »)")
    except UnicodeDecodeError:
        raise ConfigError("Fichier de configuration illisible (il doit être en UTF-8)", file=str(path.name),
                          hint="Enregistrez-le en UTF-8")
    try:
        return parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"Fichier YAML mal formé : {getattr(exc, 'problem', exc)}", file=path.name,
                          row=(mark.line + 1) if mark else None,
                          hint="Corrigez la syntaxe (indentation, deux-points, guillemets)")


@dataclass(frozen=True)
class StageMode:
    """One way of running a stage (``modes`` of the stage table): its name, the export files it reads, its
    notebook and the stage's French label in that mode."""

    name: str
    needs: tuple[str, ...]
    notebook: str
    label: str


@dataclass(frozen=True)
class StageSpec:
    """One row of the stage contract (``params.yaml`` → ``stages``)."""

    name: str
    number: int
    label: str
    domain_stage: str
    needs: tuple[str, ...]
    config: tuple[str, ...]
    reads: tuple[str, ...]
    metrics: tuple[str, ...]
    mapping: bool = False
    optional: tuple[str, ...] = ()  # keys of ``needs`` the stage runs without (it says so in its report)
    # Ways an edition may run this stage (``modes`` of the table, chosen by ``<stage>.mode`` in edition.yaml,
    # the first being the default): (mode, needs, notebook); empty when the stage has one way.
    modes: tuple[StageMode, ...] = ()

    @property
    def notebook(self) -> str:
        return f"notebooks/{self.number:02d}_{self.name}.ipynb"

    @property
    def folder(self) -> str:
        return self.name


@dataclass
class Params:
    """The repository-wide ``params.yaml``."""

    data: dict
    root: Path

    @classmethod
    def load(cls, root: Path | None = None) -> "Params":
        root = root or project_root()
        data = read_yaml(root / "params.yaml") or {}
        return cls(data=data, root=root)

    @property
    def editions(self) -> dict[str, dict]:
        return self.data.get("editions") or {}

    @cached_property
    def stages(self) -> dict[str, StageSpec]:
        out = {}
        for name, spec in (self.data.get("stages") or {}).items():
            out[name] = StageSpec(
                name=name,
                number=int(spec["number"]),
                label=spec["label"],
                domain_stage=str(spec.get("domain_stage", "–")),
                needs=tuple(spec.get("needs") or ()),
                config=tuple(spec.get("config") or ()),
                reads=tuple(spec.get("reads") or ()),
                mapping=bool(spec.get("mapping", False)),
                metrics=tuple(spec.get("metrics") or ()),
                optional=tuple(spec.get("optional") or ()),
                modes=tuple(StageMode(str(mode), tuple((how or {}).get("needs") or spec.get("needs") or ()),
                                      str((how or {}).get("notebook") or f"notebooks/{int(spec['number']):02d}_{name}.ipynb"),
                                      str((how or {}).get("label") or spec["label"]))
                            for mode, how in (spec.get("modes") or {}).items()),
            )
            unknown = set(out[name].optional) - set(out[name].needs)
            if unknown:
                raise ConfigError(f"Étape « {name} » : {'fichier facultatif' if len(unknown) == 1 else 'fichiers facultatifs'} "
                                  f"{', '.join(sorted(unknown))} {'absent' if len(unknown) == 1 else 'absents'} "
                                  "de sa liste needs", file="params.yaml",
                                  hint="« optional » nomme des fichiers de « needs » dont l'étape peut se passer")
        return dict(sorted(out.items(), key=lambda kv: kv[1].number))

    def stage(self, name: str) -> StageSpec:
        try:
            return self.stages[name]
        except KeyError:
            known = ", ".join(self.stages)
            raise ConfigError(f"Étape inconnue « {name} »", hint=f"Étapes connues : {known}")

    def edition_files(self, edition: str) -> dict[str, str]:
        if edition not in self.editions:
            known = ", ".join(self.editions) or "aucune"
            raise ConfigError(f"Édition « {edition} » absente de params.yaml", file="params.yaml",
                              hint=f"Éditions déclarées : {known}. Créez-la avec « stagesco new-edition »")
        return dict((self.editions[edition] or {}).get("files") or {})


def _refuse_bare_dates(data, file: str, path: str = "") -> None:
    """DVC records edition.yaml sections as JSON: a YAML date must be written as a quoted string."""
    if isinstance(data, dict):
        for key, value in data.items():
            _refuse_bare_dates(value, file, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            _refuse_bare_dates(value, file, f"{path}[{i}]")
    elif isinstance(data, (date, datetime)):
        raise ConfigError(f"La date de « {path} » doit être écrite entre guillemets", file=file,
                          hint=f'Écrivez par exemple {path.split(".")[-1]}: "{data}"')


def campaign_of(edition_name: str, declared: object = None) -> str:
    """An edition's campaign: the declared one, else its name without a trailing year (``demo-2024`` → ``demo``)."""
    if declared is not None and str(declared).strip():
        return str(declared).strip()
    return re.sub(r"-\d{4}$", "", edition_name)


@dataclass
class Edition:
    """One edition: its config, its mapping and its input files."""

    name: str
    params: Params
    config: dict = field(default_factory=dict)

    @classmethod
    def load(cls, name: str, root: Path | None = None) -> "Edition":
        params = Params.load(root)
        params.edition_files(name)  # fails clearly if the edition is not declared
        config = read_yaml(inputs_dir(name, params.root) / EDITION_FILE) or {}
        if not isinstance(config, dict):
            raise ConfigError("edition.yaml doit décrire un dictionnaire de réglages", file=EDITION_FILE)
        _refuse_bare_dates(config, f"inputs/{name}/{EDITION_FILE}")
        return cls(name=name, params=params, config=config)

    @property
    def root(self) -> Path:
        return self.params.root

    @property
    def inputs(self) -> Path:
        return inputs_dir(self.name, self.root)

    @property
    def outputs(self) -> Path:
        return outputs_dir(self.name, self.root)

    @property
    def title(self) -> str:
        return str(self.config.get("title") or self.name)

    @cached_property
    def mapping(self) -> dict:
        data = read_yaml(self.inputs / MAPPING_FILE) or {}
        if not isinstance(data, dict):
            raise ConfigError("mapping.yaml doit décrire un dictionnaire", file=MAPPING_FILE)
        return data

    def section(self, key: str) -> dict:
        value = self.config.get(key)
        if value is None:
            raise ConfigError(f"Section « {key} » absente", file=f"inputs/{self.name}/{EDITION_FILE}",
                              hint="Copiez-la depuis l'édition démo (inputs/demo/edition.yaml)")
        return value

    @property
    def vocabulary(self) -> dict:
        """Shared words of params.yaml (statuses, decisions, rule results)."""
        return self.params.data.get("vocabulary") or {}

    def labels(self, vocabulary: str) -> dict[str, str]:
        """An edition vocabulary (``vocabularies.<name>`` of edition.yaml): code → French label."""
        return dict((self.config.get("vocabularies") or {}).get(vocabulary) or {})

    @property
    def tracks(self) -> dict[str, str]:
        """The cohort's tracks (``vocabularies.tracks`` of edition.yaml): code → French label, in its order."""
        tracks = self.labels("tracks")
        if not tracks:
            raise ConfigError("Filières de la promotion absentes (vocabularies.tracks)",
                              file=f"inputs/{self.name}/{EDITION_FILE}",
                              hint="Déclarez sous vocabularies.tracks chaque filière : son code, deux-points, son "
                                   "libellé (comme dans inputs/demo/edition.yaml)")
        return {str(code): str(label) for code, label in tracks.items()}

    @property
    def campaign(self) -> str:
        """The campaign the edition belongs to (``campaign:``), whose earlier editions its review compares with."""
        return campaign_of(self.name, self.config.get("campaign"))

    def when(self, key: str) -> datetime:
        """A date of the edition's calendar (``calendar.<key>``) as a datetime; a date alone means 00:00."""
        calendar = self.config.get("calendar") or {}
        if key not in calendar:
            raise ConfigError(f"Date « {key} » absente du calendrier", file=f"inputs/{self.name}/{EDITION_FILE}",
                              hint=f"Ajoutez calendar.{key} (format AAAA-MM-JJ ou AAAA-MM-JJ HH:MM)")
        value = calendar[key]
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime.combine(value, time(0))
        for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                return datetime.strptime(str(value), fmt)
            except ValueError:
                continue
        raise ConfigError(f"Date « {value} » illisible pour calendar.{key}", file=f"inputs/{self.name}/{EDITION_FILE}",
                          hint="Écrivez-la au format AAAA-MM-JJ ou AAAA-MM-JJ HH:MM")

    def input_path(self, key: str) -> Path:
        """The path of the export declared as ``editions.<name>.files.<key>`` in params.yaml."""
        files = self.params.edition_files(self.name)
        if key not in files:
            raise ConfigError(f"Fichier « {key} » non déclaré pour l'édition {self.name}", file="params.yaml",
                              hint=f"Ajoutez editions.{self.name}.files.{key} dans params.yaml")
        return self.inputs / files[key]

    def followup_path(self, key: str) -> Path:
        """A file of the edition's follow-up folder (``followup_files.<key>`` in params.yaml)."""
        names = self.params.data.get("followup_files") or {}
        if key not in names:
            raise ConfigError(f"Fichier de suivi « {key} » non déclaré", file="params.yaml",
                              hint=f"Ajoutez followup_files.{key} dans params.yaml")
        return self.input_path("followup") / names[key]

    def has_input(self, key: str) -> bool:
        """Whether the edition declares the input ``key`` (``editions.<name>.files``) and it is there."""
        files = self.params.edition_files(self.name)
        return key in files and (self.inputs / files[key]).exists()

    @cached_property
    def stages(self) -> list[StageSpec]:
        """The stages this edition uses, in the table's order: ``stages:`` of edition.yaml (default: every
        stage of params.yaml). A campaign without, say, an evaluation by the school lists the others."""
        table = {name: self._in_mode(spec) for name, spec in self.params.stages.items()}
        chosen = self.config.get("stages")
        if chosen is None:
            return list(table.values())
        where = f"inputs/{self.name}/{EDITION_FILE}"
        if not isinstance(chosen, list) or not chosen:
            raise ConfigError("« stages » doit être une liste d'étapes (ou être absent : toutes les étapes)", file=where)
        unknown = [str(s) for s in chosen if s not in table]
        if unknown:
            raise ConfigError(f"{'Étape inconnue' if len(unknown) == 1 else 'Étapes inconnues'} dans « stages » : {', '.join(unknown)}", file=where,
                              hint=f"Étapes connues : {', '.join(table)}")
        return [spec for name, spec in table.items() if name in chosen]

    def _in_mode(self, stage: StageSpec) -> StageSpec:
        """The stage as this edition runs it: its label is the mode's (« Placements des apprenants »)."""
        mode = self.stage_mode(stage)
        label = next((m.label for m in stage.modes if m.name == mode), stage.label)
        return stage if label == stage.label else replace(stage, label=label)

    def stage_mode(self, stage: StageSpec) -> str | None:
        """How this edition runs ``stage`` (``<stage>.mode`` of edition.yaml, default the table's first mode);
        None for a stage with one way."""
        if not stage.modes:
            return None
        known = [mode.name for mode in stage.modes]
        section = self.config.get(stage.name)
        value = section.get("mode", known[0]) if isinstance(section, dict) else known[0]
        if value not in known:
            raise ConfigError(f"Mode « {value} » inconnu pour l'étape {stage.label} ({stage.name}.mode)",
                              file=f"inputs/{self.name}/{EDITION_FILE}", hint=f"Modes possibles : {', '.join(known)}")
        return str(value)

    def stage_needs(self, stage: StageSpec) -> tuple[str, ...]:
        """The export files (keys of ``editions.<e>.files``) the stage reads in this edition's mode; an optional
        one (``optional`` of the stage table) only when the edition has it."""
        absent = self.stage_absent(stage)
        return tuple(key for key in self._mode_needs(stage) if key not in absent)

    def stage_absent(self, stage: StageSpec) -> tuple[str, ...]:
        """The optional export files of the stage (in this edition's mode) the edition runs without."""
        return tuple(key for key in self._mode_needs(stage) if key in stage.optional and not self.has_input(key))

    def _mode_needs(self, stage: StageSpec) -> tuple[str, ...]:
        mode = self.stage_mode(stage)
        return tuple(next((m.needs for m in stage.modes if m.name == mode), stage.needs))

    def stage_notebook(self, stage: StageSpec) -> str:
        """The notebook the stage runs in this edition's mode."""
        mode = self.stage_mode(stage)
        return next((m.notebook for m in stage.modes if m.name == mode), stage.notebook)

    def stage_inputs(self, stage: StageSpec) -> list[Path]:
        """The files of the edition's folder a stage reads (its DVC file deps): the mapping when the stage
        uses it, then its declared exports — an optional one (``optional`` in the stage table) only when the
        edition declares it and it is there. Its edition.yaml sections are params, not file deps. A stage whose
        exports are all optional and absent (the review without a register of actions) reads no mapping."""
        needs = self.stage_needs(stage)
        paths = [self.inputs / MAPPING_FILE] if stage.mapping and (needs or not stage.needs) else []
        paths += [self.input_path(key) for key in needs]
        return paths

    def missing_optional(self, stage: StageSpec) -> list[str]:
        """The optional inputs of ``stage`` this edition runs without (undeclared or absent); an input of one
        campaign shape (``campaign: true`` in params.yaml's ``input_files``, e.g. a pôle's basins) counts
        only when the edition declares it."""
        shapes = {key for key, spec in (self.params.data.get("input_files") or {}).items()
                  if isinstance(spec, dict) and spec.get("campaign")}
        files = self.params.edition_files(self.name)
        return [key for key in stage.optional if not self.has_input(key) and (key not in shapes or key in files)]

    def stage_reads(self, stage: StageSpec) -> list[Path]:
        """The earlier stages' outputs a stage reads (``reads`` in the stage table)."""
        return [self.outputs / rel for rel in stage.reads]
