"""Pipeline timings on the demo edition: a cold full run, a no-op re-run, the floor, and the cockpit's
overhead: a no-op ``stagesco run demo`` against DVC's fastest no-op ``dvc repro`` of the demo's stages
(``--glob '*@demo'``; the nine stages listed as targets are printed too: DVC parses dvc.lock once per
target), ``stagesco status demo`` against DVC's fastest ``dvc status`` covering them (medians of 3; target
≤ 1.2 each).

The floor is what the machinery alone costs: papermill + nbconvert of an empty notebook on the same
kernel, times the number of stages. Run with ``make bench``; prints figures, asserts nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import copy_repo, dvc, stagesco  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def floor_once(folder: Path) -> float:
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    from pipeline.contract.kernel import KERNEL_NAME, ensure_kernel

    ensure_kernel()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    src, out = folder / "empty.ipynb", folder / "empty.out.ipynb"
    nbformat.write(nb, src)

    def run():
        papermill.execute_notebook(str(src), str(out), kernel_name=KERNEL_NAME, progress_bar=False)
        HTMLExporter(exclude_input=True).from_filename(str(out))

    return timed(run)


def median_of_3(fn) -> float:
    return sorted(timed(fn) for _ in range(3))[1]


def main() -> None:
    from pipeline.contract.config import Params

    stages = len(Params.load(ROOT).stages)
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_repo(Path(tmp) / "repo")
        cold = timed(lambda: stagesco(root, "run", "demo"))
        targets = [f"{name}@demo" for name in Params.load(root).stages]
        noop_listed = median_of_3(lambda: dvc(root, "repro", *targets))
        # DVC's fastest call for the same answer: one pattern (it parses dvc.lock once, not once per target)
        noop = median_of_3(lambda: dvc(root, "repro", "--glob", "*@demo"))
        run_noop = median_of_3(lambda: stagesco(root, "run", "demo"))
        dvc_status_listed = median_of_3(lambda: dvc(root, "status", *targets))
        dvc_status = median_of_3(lambda: dvc(root, "status"))  # every stage at once, one parse
        status = median_of_3(lambda: stagesco(root, "status", "demo"))
        floor = min(floor_once(Path(tmp)) for _ in range(3)) * stages
    print(f"stages in the pipeline        : {stages}")
    print(f"cold full run (demo)          : {cold:6.2f} s")
    print(f"no-op dvc repro, 9 targets    : {noop_listed:6.2f} s")
    print(f"no-op dvc repro --glob *@demo : {noop:6.2f} s")
    print(f"floor (papermill+nbconvert x{stages}): {floor:6.2f} s")
    print(f"cold run / floor              : {cold / floor:6.2f}")
    print(f"no-op stagesco run demo       : {run_noop:6.2f} s  ({run_noop / noop:4.2f} × DVC's fastest no-op repro; target ≤ 1.2)")
    print(f"dvc status, 9 targets         : {dvc_status_listed:6.2f} s")
    print(f"dvc status, every stage       : {dvc_status:6.2f} s")
    print(f"stagesco status demo          : {status:6.2f} s  ({status / dvc_status:4.2f} × DVC's fastest status; target ≤ 1.2)")

if __name__ == "__main__":
    main()
