"""JupyterLab in a real browser: open a notebook, run all cells, move an explorer's slider with
the keyboard, and check that the figure and the readout shown in the page both change, to the
kernel's new figure (the same PNG bytes) and readout.

Starts `jupyter lab` on 127.0.0.1 (random free port and token) on a copy of notebooks/, under
the `ci` profile, and drives Debian's Chromium with Playwright (no browser download). Skips when
Chromium or Playwright is missing, unless CCDISTILL_REQUIRE_BROWSER=1 (set by .ci/run), which
makes their absence a failure. CCDISTILL_SCREENSHOT=PATH also copies the first screenshot there
(docs/figures/explorer.png for the README).

To add a notebook: append (notebook, slider description, explorer variable) to CASES.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import http.client
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CASES = [
    # (notebook, the slider's description as shown, the name of the explorer in the notebook)
    ("02_content_cosine_maps.ipynb", "x", "cosine"),
    ("05_evaluation.ipynb", "image", "browser"),
]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SERVER_START_S = 60
RUN_ALL_S = 300  # 05 trains both ci runs in its fresh copy: minutes on a busy 2-core machine


def _require_or_skip(reason: str) -> None:
    if os.environ.get("CCDISTILL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (CCDISTILL_REQUIRE_BROWSER=1: .ci/run installs it with apt-get)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _require_or_skip("Chromium is not installed (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _require_or_skip("the playwright package is not installed (pip install -e '.[test]')")
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory, chromium):
    """(base URL, token) of a JupyterLab serving a copy of notebooks/ (the stored files stay untouched)."""
    root = tmp_path_factory.mktemp("lab") / "notebooks"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns("students", ".ipynb_checkpoints"))
    _clear_outputs(root)  # so that a prompt number in the page can only come from this Run All
    port, token = _free_port(), secrets.token_hex(16)
    # The ci profile unless asked otherwise (the README screenshot: CCDISTILL_SCREENSHOT_PROFILE=cpu).
    env = dict(os.environ, CCDISTILL_PROFILE=os.environ.get("CCDISTILL_SCREENSHOT_PROFILE", "ci"), OMP_NUM_THREADS="1",
               JUPYTER_CONFIG_DIR=str(root.parent / "config"), JUPYTER_RUNTIME_DIR=str(root.parent / "runtime"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    # The copy sits outside the repository: its ToyCity and runs go beside it (setup() finds no repo root).
    log = open(root.parent / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_S
    while True:
        try:
            # http.client, not urllib: the tests' no_downloads fixture blocks urlopen (local server only here)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", f"/api/status?token={token}")
            if connection.getresponse().status == 200:
                break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"JupyterLab did not start: {(root.parent / 'lab.log').read_text()[-2000:]}")
        time.sleep(0.5)
    yield base, token, root
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


# SHA-256 of the PNG the page shows: the <img> of the explorer's Image widget holds a blob URL.
FIGURE_HASH_JS = """async (img) => {
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    return Array.from(new Uint8Array(digest), b => b.toString(16).padStart(2, "0")).join("");
}"""


def _shown(explorer_box) -> tuple[str, str]:
    """(hash of the figure, readout text) as the page shows them now."""
    figure = explorer_box.locator("img").first.evaluate(FIGURE_HASH_JS)
    return figure, " ".join(explorer_box.locator(".widget-html-content").last.inner_text().split())


@pytest.mark.slow
@pytest.mark.parametrize("notebook, slider, variable", CASES, ids=[c[0] for c in CASES])
def test_slider_moves_figure_and_readout_to_kernel_answer(lab, chromium, notebook, slider, variable, tmp_path):
    from playwright.sync_api import sync_playwright

    base, token, root = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            shot = _drive(page, base, token, notebook, slider, variable, tmp_path)
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))
            print(f"browser test failed; page at {tmp_path / 'failure.png'}, server log {root.parent / 'lab.log'}")
            raise
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    target = os.environ.get("CCDISTILL_SCREENSHOT")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)


def _clear_outputs(folder: Path) -> None:
    """Drop the stored outputs and execution counts of the served copies."""
    import nbformat

    for path in folder.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, path)


def _accept_kernel_dialog(page) -> None:
    """A loaded JupyterLab sometimes asks which kernel to start; the preselected one is right."""
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    if dialog.count() and dialog.first.is_visible():
        dialog.first.get_by_role("button", name="Select").click()


def _run_all(page, attempts: int = 3) -> None:
    """Run menu -> Run All Cells once the kernel is idle; again if no cell started (a Run All
    sent while the kernel is still connecting is dropped)."""
    from playwright.sync_api import expect

    status = page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\| Idle")).first
    first_prompt = page.locator(".jp-CodeCell .jp-InputPrompt").first
    for _ in range(attempts):
        _accept_kernel_dialog(page)
        expect(status).to_be_visible(timeout=SERVER_START_S * 1000)
        page.get_by_text("Run", exact=True).first.click()
        page.get_by_text("Run All Cells", exact=True).first.click()
        try:
            expect(first_prompt).to_have_text(re.compile(r"\[(\*|\d+)\]"), timeout=15_000)
            return
        except AssertionError:
            continue
    raise AssertionError(f"Run All Cells started no cell in {attempts} attempts")


def _drive(page, base: str, token: str, notebook: str, slider: str, variable: str, tmp_path: Path) -> Path:
    """Open, run all, move the slider, compare page and kernel; returns the screenshot path."""
    from playwright.sync_api import expect

    # A workspace of its own, reset: JupyterLab would otherwise restore the tabs of the previous
    # case, and a hidden notebook's cells would answer the locators below.
    page.goto(f"{base}/lab/workspaces/{Path(notebook).stem}/tree/{notebook}?reset&token={token}")
    page.locator(".jp-Notebook").first.wait_for(timeout=SERVER_START_S * 1000)
    _run_all(page)

    # The explorer: the widget box whose controls include the slider's label.
    label = page.locator(".widget-slider .widget-label", has_text=slider).first
    label.wait_for(timeout=RUN_ALL_S * 1000)
    box = page.locator(".jp-OutputArea-output .widget-vbox", has=label).first
    expect(box.locator(".widget-html-content").last).not_to_be_empty(timeout=30_000)
    # Let Run All finish, so the kernel answers the slider (and later cells don't race it).
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first).to_be_attached(
        timeout=RUN_ALL_S * 1000)
    before = _shown(box)

    handle = box.locator(".widget-slider .noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.keyboard.press("ArrowRight")
    deadline = time.monotonic() + 30
    while ((after := _shown(box))[0] == before[0] or after[1] == before[1]) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert after[1] != before[1], f"the readout did not change after ArrowRight on {slider!r}: {before[1]}"
    assert after[0] != before[0], f"the figure did not change after ArrowRight on {slider!r} (readout: {after[1]})"
    # A key press can reach the kernel as more than one value change: wait until the page settles.
    settled = time.monotonic()
    while time.monotonic() - settled < 1.5 and time.monotonic() < deadline + 30:
        page.wait_for_timeout(250)
        if (latest := _shown(box)) != after:
            after, settled = latest, time.monotonic()

    # The kernel's own answer: its explorer's figure and readout, printed by a new cell at the end.
    page.locator(".jp-Notebook .jp-Cell .jp-InputPrompt").last.click()  # select, not edit
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # a new cell below, selected
    page.keyboard.press("Enter")  # edit it
    page.keyboard.insert_text(
        f"import hashlib, re; print('KERNEL:' + hashlib.sha256(bytes({variable}.image.value)).hexdigest() + '|' "
        f"+ ' '.join(re.sub('<[^>]+>', ' ', {variable}.readout.value).split()))")
    page.keyboard.press("Shift+Enter")
    answer = page.locator(".jp-OutputArea-output", has_text="KERNEL:").last
    answer.wait_for(timeout=30_000)
    figure, readout = answer.inner_text().split("KERNEL:", 1)[1].strip().split("|", 1)
    assert figure == after[0], "the page shows another figure than the kernel's explorer holds"
    # Tags become nothing in the page and a space in the regex: compare without whitespace.
    assert "".join(readout.split()) == "".join(after[1].split()), (readout, after[1])

    box.scroll_into_view_if_needed()
    shot = tmp_path / f"{Path(notebook).stem}.png"
    box.screenshot(path=str(shot))
    return shot
