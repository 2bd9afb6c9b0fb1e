"""Issue 18, items 2 and 3: logs for people and machines, and run-folder files readable as the
umask allows. One `ccdistill train` of the ci profile runs with its output redirected to a file,
as under nohup; the tests read that file and the run folder it wrote."""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from ccdistill.config import load_config
from ccdistill.runfolder.files import current_umask, write_atomic
from ccdistill.train import train
from ccdistill.train.progress import BarProgress, PlainProgress, progress_reporter, redraws_in_place
from tests.engine.helpers import CONFIG, ci_overrides

REPO = Path(__file__).resolve().parents[2]
UMASK = 0o002  # differs from mkstemp's 0600 and from the usual 022, so the test can fail either way
ITERATIONS, LOG_EVERY = 20, 5  # the ci profile's length and log cadence
LINE = re.compile(r"^train (\d+)/(\d+) \(\d+%\) \| total [-\d.e]+ .* \| lr [-\d.e+]+ \| [\d.e+]+ it/s \| ETA [\d:?]+$")


@pytest.fixture(scope="module")
def logged_run(toycity_root, tmp_path_factory) -> tuple[Path, str]:
    """(run folder, everything the command printed) of a ci training with stdout and stderr
    redirected to a file, under umask 002."""
    folder = tmp_path_factory.mktemp("logged")
    run, log = folder / "run", folder / "train.log"
    with open(log, "w") as output:
        done = subprocess.run(
            [sys.executable, "-m", "ccdistill", "train", "--config", str(CONFIG),
             *ci_overrides(toycity_root, run, "train.progress=true", f"train.log_every={LOG_EVERY}")],
            cwd=REPO, stdout=output, stderr=subprocess.STDOUT, umask=UMASK,
            env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)
    text = log.read_text()
    assert done.returncode == 0, text
    return run, text


def test_progress_outside_a_terminal_is_one_plain_line_per_report(logged_run):
    _, text = logged_run
    assert "\r" not in text and "\x1b" not in text  # no carriage-return redraws, no terminal codes
    reports = [line for line in text.splitlines() if line.startswith("train ")]
    assert reports and all(LINE.match(line) for line in reports), reports
    iterations = [int(LINE.match(line).group(1)) for line in reports]
    assert iterations == sorted(set(iterations)) and iterations[-1] == ITERATIONS
    # Every log_every-th iteration has its line (a slow machine may add time-triggered ones).
    assert set(range(LOG_EVERY, ITERATIONS + 1, LOG_EVERY)) <= set(iterations)
    assert re.search(rf"^validation at iteration {ITERATIONS}: mIoU [\d.]+ \(best [\d.]+\)$", text, re.M)


def test_validation_miou_is_written_to_val_csv(logged_run):
    run, text = logged_run
    rows = (run / "val.csv").read_text().splitlines()
    header, values = rows[0].split(","), rows[1].split(",")
    assert header[:2] == ["iteration", "miou"] and "iou_road" in header and "iou_traffic_light" in header
    assert len(rows) == 2 and int(values[0]) == ITERATIONS
    # The one validation of the run is the best one: the mIoU best.pt records and the CLI printed.
    best = torch.load(run / "best.pt", weights_only=True)["best_miou"]
    assert float(values[1]) == pytest.approx(best)
    assert f"validation mIoU {100 * best:.2f}" in text


def test_the_environment_is_recorded_once_per_start(logged_run):
    run, _ = logged_run
    documents = list(yaml.safe_load_all((run / "environment.yaml").read_text()))
    assert len(documents) == 1
    record = documents[0]
    assert record["iteration"] == 0 and record["device"] == "cpu"
    assert record["packages"]["torch"] == torch.__version__.split("+")[0]
    assert record["torch_threads"] >= 1 and record["thread_variables"]["OMP_NUM_THREADS"] == "1"
    assert "train" in record["command"]


def test_run_folder_files_have_the_mode_the_umask_gives(logged_run):
    run, _ = logged_run
    files = [path for path in run.rglob("*") if path.is_file() and path.name != "train.lock"]
    assert {"deploy.pt", "best.pt", "ckpt_0000020.pt", "log.csv", "val.csv", "config.yaml"} <= {p.name for p in files}
    modes = {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in files}
    assert set(modes.values()) == {oct(0o666 & ~UMASK)}, modes


def test_a_resume_appends_its_environment_and_validation(logged_run, toycity_root, tmp_path):
    run = Path(shutil.copytree(logged_run[0], tmp_path / "run"))
    train(load_config(CONFIG, ci_overrides(toycity_root, run, f"train.max_iterations={ITERATIONS + 5}")))
    documents = list(yaml.safe_load_all((run / "environment.yaml").read_text()))
    assert [document["iteration"] for document in documents] == [0, ITERATIONS]
    iterations = [int(line.split(",")[0]) for line in (run / "val.csv").read_text().splitlines()[1:]]
    assert iterations == [ITERATIONS, ITERATIONS + 5]


# ------------------------------------------------------------------------------ the parts
class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_progress_reports_every_n_iterations_or_seconds():
    stream, clock = io.StringIO(), _Clock()
    progress = PlainProgress(total=100, every=10, seconds=30.0, stream=stream, clock=clock)
    for iteration in range(1, 13):
        clock.now += 1.0
        progress.update(iteration, {"total": 1.0, "seg_day": 0.5, "lr": 1e-3})
    clock.now += 40.0  # a slow step: reported although 13 is not a multiple of 10
    progress.update(13, {"total": 0.9, "lr": 1e-3})
    lines = stream.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["10/100", "13/100"]
    assert "| 1 it/s |" in lines[0] and "ETA 1:30" in lines[0]  # 10 iterations in 10 s, 90 left
    assert lines[0].index("total") < lines[0].index("seg_day")


def test_a_bar_only_where_it_redraws_in_place(tmp_path, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)  # not inside a Jupyter kernel
    with open(tmp_path / "log.txt", "w") as file:
        assert not redraws_in_place(file)
        assert isinstance(progress_reporter(10, stream=file), PlainProgress)
    terminal = Terminal()
    assert redraws_in_place(terminal)
    bar = progress_reporter(10, stream=terminal)
    assert isinstance(bar, BarProgress)
    bar.close()


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_atomic_writes_take_the_umask_and_keep_an_existing_mode(tmp_path, umask):
    previous = os.umask(umask)
    try:
        assert current_umask() == umask
        new = write_atomic(tmp_path / "new.bin", lambda file: file.write(b"x"))
        existing = tmp_path / "existing.bin"
        existing.write_bytes(b"old")
        existing.chmod(0o640)
        write_atomic(existing, lambda file: file.write(b"new"))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640 and existing.read_bytes() == b"new"
