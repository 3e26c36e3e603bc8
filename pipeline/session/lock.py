"""One meeting at a time per edition: a lock file under ``state/<edition>/`` holding the session's process id.

A lock left by a session that no longer runs (its process is gone) is taken over."""

from __future__ import annotations

import os
from pathlib import Path

from ..contract.errors import StagescoError
from ..contract.paths import relative, state_dir

LOCK_NAME = "session.lock"


class SessionLocked(StagescoError):
    """Another session already edits this edition's adjustments."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class EditionLock:
    def __init__(self, edition: str, root: Path | None = None):
        self.edition = edition
        self.path = state_dir(edition, root) / LOCK_NAME
        self.held = False

    def acquire(self) -> "EditionLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                text = self.path.read_text(encoding="utf-8").strip() if self.path.exists() else ""
                if text.isdigit() and _alive(int(text)):
                    raise SessionLocked(f"Une séance de commission est déjà ouverte sur l'édition {self.edition} "
                                        f"(processus {text})", file=relative(self.path),
                                        hint="Rejoignez la page de cette séance ou fermez-la (Ctrl+C) avant d'en ouvrir "
                                             "une autre ; deux séances ne modifient jamais la même édition")
                self.path.unlink(missing_ok=True)  # left by a session that no longer runs
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(f"{os.getpid()}\n")
            self.held = True
            return self
        raise SessionLocked(f"Verrou de séance impossible à prendre : {relative(self.path)}")

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> "EditionLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
