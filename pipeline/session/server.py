"""``stagesco session <edition>``: check the edition is up to date, take its lock, serve the meeting page
with Voilà on 127.0.0.1 until Ctrl+C (or the process is ended), then release the lock."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from ..cockpit.status import not_up_to_date
from ..contract.config import Edition
from ..contract.errors import StagescoError
from .lock import EditionLock
from .page import ENV_EDITION, ENV_NAMES
from .record import AdjustmentsFile

NOTEBOOK = Path("notebooks") / "session.ipynb"
TEMPLATES = Path(__file__).with_name("templates")  # voila/templates/stagesco: lab without any CDN link
HOST = "127.0.0.1"


class EditionNotUpToDate(StagescoError):
    """The meeting starts from the edition's current results: every stage must be up to date."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def check_ready(edition: Edition) -> None:
    stale = not_up_to_date(edition)
    if stale:
        raise EditionNotUpToDate(f"L'édition {edition.name} n'est pas à jour : la séance ne peut pas s'ouvrir",
                                 problems=stale,
                                 hint=f"Lancez « stagesco run {edition.name} », puis rouvrez la séance")
    AdjustmentsFile(edition)  # the mapping names the columns the meeting writes


def voila_command(root: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "voila", str(root / NOTEBOOK), f"--port={port}", "--no-browser",
            f"--Voila.ip={HOST}", "--theme=light", "--template=stagesco", "--show_tracebacks=False",
            "--preheat_kernel=True", "--pool_size=1"]


def serve(edition: Edition, *, port: int | None = None, show_names: bool = False) -> int:
    check_ready(edition)
    port = port or free_port()
    root = edition.root
    env = dict(os.environ, **{ENV_EDITION: edition.name, ENV_NAMES: "1" if show_names else "0",
                              "STAGESCO_ROOT": str(root)})
    env["JUPYTER_PATH"] = str(TEMPLATES) + (os.pathsep + env["JUPYTER_PATH"] if env.get("JUPYTER_PATH") else "")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(root) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with EditionLock(edition.name, root):
        print(f"Séance de la commission — édition {edition.name} : http://{HOST}:{port}/", flush=True)
        print("Les changements adoptés sont inscrits dans "
              f"inputs/{edition.name}/{edition.params.edition_files(edition.name)['adjustments']} ; "
              "Ctrl+C ferme la séance.", flush=True)
        process = subprocess.Popen(voila_command(root, port), cwd=root, env=env)
        previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.terminate()
            process.wait(timeout=30)
            print("Séance fermée.")
            return 0
        finally:
            signal.signal(signal.SIGTERM, previous)
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
