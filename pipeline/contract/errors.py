"""User-facing errors: what is wrong, where (file, row, column) and what to do — in French."""

from __future__ import annotations


class StagescoError(Exception):
    """An error the analyst can act on.

    ``message`` says what is wrong, ``hint`` what to do; ``file``/``row``/``column`` say where.
    ``str()`` gives the one French line the analyst reads.
    """

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None, hint: str | None = None):
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
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


class InputFileError(StagescoError):
    """An input file cannot be read at all (encoding, format, emptiness, size)."""


class ConfigError(StagescoError):
    """An edition's configuration or mapping is missing or inconsistent."""
