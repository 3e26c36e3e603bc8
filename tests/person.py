"""What a person sees: the real tools a commission member opens our outputs with.

* :func:`browser` — Debian's ``chromium`` (``/usr/bin/chromium``) driven by the ``playwright`` Python
  package through ``executable_path`` (never ``playwright install``: no browser is downloaded).
* :func:`soffice_convert` — LibreOffice headless (``soffice --convert-to``) with a fresh profile.
* :func:`outputs_of` — every generated file of one kind under a run's ``outputs/``, so that the checks
  are generic: a new stage's reports and workbooks are covered without new code.

When a tool is missing on a user's machine, the tests that need it are skipped with a French message
saying how to install it; under ``CI=true`` they fail instead (a CI that silently skips proves nothing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
OUTPUT_KINDS = ("html", "xlsx", "docx", "eml")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require(available: bool, what: str, packages: str) -> None:
    """Skip (French message, install command) when ``what`` is missing; fail instead under CI=true."""
    if available:
        return
    message = (f"{what} est introuvable sur cette machine : installez-le avec "
               f"« sudo apt-get install {packages} » (ou lancez « sudo bash .ci/system-deps.sh »)")
    if in_ci():
        pytest.fail(f"{message} — sous CI=true ce test n'est jamais ignoré.")
    pytest.skip(message)


def outputs_of(root: Path, kind: str) -> list[Path]:
    """Every ``*.<kind>`` file under ``root/outputs`` (hidden and partial files included: they are outputs too)."""
    return sorted(p for p in (root / "outputs").rglob(f"*.{kind}") if p.is_file())


def output_id(root: Path, path: Path) -> str:
    return path.relative_to(root / "outputs").as_posix()


# --------------------------------------------------------------------------------------------- chromium

def chromium_missing() -> str | None:
    """Why the browser tests cannot run, or None."""
    if not CHROMIUM.is_file():
        return "chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "le paquet Python playwright"
    return None


def require_chromium() -> None:
    missing = chromium_missing()
    require(missing is None, f"Le navigateur ({missing})", "chromium fonts-dejavu-core")


@contextmanager
def browser():
    """A headless Debian chromium, offline-minded (no background networking, no component updates)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


# ------------------------------------------------------------------------------------------ libreoffice

def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    path = soffice_path()
    require(path is not None, "LibreOffice (soffice)", "libreoffice-calc-nogui libreoffice-writer-nogui")
    return path  # type: ignore[return-value]


class Office:
    """LibreOffice headless with its own throw-away user profile (one per test session)."""

    def __init__(self, profile: Path):
        self.binary = require_soffice()
        self.profile = profile

    def convert(self, source: Path, target_format: str, out_dir: Path, *, timeout: int = 180) -> list[Path]:
        """``soffice --convert-to target_format`` into the empty folder ``out_dir``; return the files it wrote
        (several for a CSV of a several-sheet workbook). Fails loudly when nothing is produced.

        ``target_format`` is what ``--convert-to`` takes, e.g. ``pdf``, ``xlsx`` or
        ``csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1`` (UTF-8, every
        sheet to its own file ``<name>-<Sheet>.csv``).
        """
        out_dir.mkdir(parents=True, exist_ok=True)
        assert not any(out_dir.iterdir()), f"{out_dir} n'est pas vide"
        env = {**os.environ, "HOME": str(self.profile.parent), "SAL_USE_VCLPLUGIN": "svp"}
        command = [self.binary, f"-env:UserInstallation={self.profile.as_uri()}", "--headless", "--norestore",
                   "--nolockcheck", "--nodefault", "--convert-to", target_format, "--outdir", str(out_dir),
                   str(source)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
        extension = target_format.split(":")[0]
        produced = sorted(out_dir.glob(f"*.{extension}"))
        if result.returncode != 0 or not produced:
            raise AssertionError(f"LibreOffice n'a pas converti {source.name} en {extension} "
                                 f"(code {result.returncode}) :\n{result.stdout}\n{result.stderr}")
        return produced


    def convert_many(self, sources: list[Path], target_format: str, out_dir: Path, *,
                     timeout: int = 600) -> dict[Path, list[Path]]:
        """Every file of ``sources`` converted by ONE ``soffice`` call (LibreOffice starts once, not once per
        file); return each source's produced files. Sources are first copied under unique names, since two
        outputs of different stages may share a file name."""
        staged = out_dir / "sources"
        staged.mkdir(parents=True)
        names = {}
        for n, source in enumerate(sources):
            copy = staged / f"{n:03d}_{source.name}"
            shutil.copy2(source, copy)
            names[copy.stem] = source
        converted = out_dir / "converted"
        self.convert_paths(sorted(staged.iterdir()), target_format, converted, timeout=timeout)
        extension = target_format.split(":")[0]
        produced: dict[Path, list[Path]] = {source: [] for source in sources}
        for file in sorted(converted.glob(f"*.{extension}")):  # back to the source's own name, one folder each
            number, rest = file.name.split("_", 1)
            source = names[f"{number}_{sources[int(number)].stem}"]
            target = out_dir / number / rest
            target.parent.mkdir(exist_ok=True)
            file.rename(target)
            produced[source].append(target)
        missing = [s.name for s, files in produced.items() if not files]
        assert not missing, f"LibreOffice n'a pas converti : {', '.join(missing)}"
        return produced

    def convert_paths(self, sources: list[Path], target_format: str, out_dir: Path, *, timeout: int) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HOME": str(self.profile.parent), "SAL_USE_VCLPLUGIN": "svp"}
        command = [self.binary, f"-env:UserInstallation={self.profile.as_uri()}", "--headless", "--norestore",
                   "--nolockcheck", "--nodefault", "--convert-to", target_format, "--outdir", str(out_dir),
                   *map(str, sources)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
        if result.returncode != 0:
            raise AssertionError(f"LibreOffice a échoué (code {result.returncode}) :\n{result.stdout}\n{result.stderr}")


CSV_ALL_SHEETS_UTF8 = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
XLSX = "xlsx:Calc MS Excel 2007 XML"


def new_office_profile() -> Path:
    """A fresh LibreOffice user profile (nothing from the user's own settings, no first-start dialogs)."""
    return Path(tempfile.mkdtemp(prefix="stagesco-lo-")) / "profile"
