"""User-facing errors: what is wrong, where (file, row, column) and what to do — in French.

A stage runs in a Jupyter kernel; its :class:`StagescoError` crosses back to the runner as itself (class
name, message, where, hint, problems) through the one line IPython prints for it (:meth:`_render_traceback_`),
never as « erreur inattendue », which stays for real bugs.
"""

from __future__ import annotations

import json

MARKER = "STAGESCO-ERREUR "  # starts the line a stage's kernel prints for an expected problem


class StagescoError(Exception):
    """An error the analyst can act on.

    ``message`` says what is wrong, ``hint`` what to do; ``file``/``row``/``column`` say where;
    ``problems`` lists the individual problems (one line each: a workbook's bad rows, say).
    ``str()`` gives what the analyst reads: one French line, then one line per problem.
    """

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None, hint: str | None = None, problems: list[str] | None = None):
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        self.hint = hint
        self.problems = [str(p) for p in problems or []]
        super().__init__(self.render())

    @property
    def kind(self) -> str:
        """The class of the problem (``DecisionWorkbookError``…), kept when it crosses the kernel."""
        return type(self).__name__

    def headline(self) -> str:
        where = []
        if self.file:
            where.append(f"fichier {self.file}")
        if self.row is not None:
            where.append(f"ligne {self.row}")
        if self.column:
            where.append(f"colonne « {self.column} »")
        text = self.message
        if where:
            text = f"{text} ({', '.join(where)})"
        if self.hint:
            text = f"{text}. {self.hint}"
        return text

    def render(self) -> str:
        return self.headline() + "".join(f"\n- {problem}" for problem in self.problems)

    def record(self) -> dict:
        return {"kind": self.kind, "message": self.message, "file": self.file, "row": self.row,
                "column": self.column, "hint": self.hint, "problems": self.problems}

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for this error in a stage's kernel (and papermill hands to the runner)."""
        return [MARKER + json.dumps(self.record(), ensure_ascii=False)]

    @staticmethod
    def from_traceback(lines: list[str]) -> "StageError | None":
        """The expected problem a stage's kernel reported (see :meth:`_render_traceback_`), or None."""
        for line in lines or []:
            if line.startswith(MARKER):
                data = json.loads(line[len(MARKER):])
                return StageError(data.pop("kind"), data.pop("message"), **data)
        return None


class StageError(StagescoError):
    """A stage's expected problem read back from its kernel: same message and problems, and ``kind``, the
    name of the class the stage raised."""

    def __init__(self, kind: str, message: str, **where):
        self._kind = kind
        super().__init__(message, **where)

    @property
    def kind(self) -> str:
        return self._kind


class InputFileError(StagescoError):
    """An input file cannot be read at all (encoding, format, emptiness, size)."""


class ConfigError(StagescoError):
    """An edition's configuration or mapping is missing or inconsistent."""
