"""The course site (`make book`, book/conf.py) builds from the repository as it is, without
executing a notebook, and every notebook page shows the figures its notebook stores.

One build into a temporary folder (about 10 s of CPU), then checks on the written HTML: a page per
notebook, each stored figure present as an image file whose bytes are the stored output's, the
overview, method and results pages with their figures, no explorer's widget repr and no script
or stylesheet from another host (the site reads offline). Last, Debian's Chromium opens one page
(as tests/notebooks/test_browser.py does) and checks that its figures and equations are drawn;
CCDISTILL_BOOK_SCREENSHOT=PATH keeps its screenshot (docs/figures/book_page.png)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ccdistill.notebook.files import read, solution_notebooks
from tests.notebooks.test_browser import CHROMIUM_ARGS, chromium  # noqa: F401 (the fixture)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = solution_notebooks(ROOT / "notebooks")
IMAGE_TYPES = ("image/png", "image/jpeg")
PAGES = {  # page -> how many images it shows at least (its figures)
    "README.html": 1, "docs/METHOD.html": 0, "docs/RESULTS.html": 4,
}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.external: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        link = attrs.get("src") if tag == "script" else attrs.get("href") if tag == "link" else None
        if link and re.match(r"^(https?:)?//", link):
            self.external.append(link)

    def handle_data(self, data) -> None:
        self.text.append(data)


def _page(site: Path, name: str) -> tuple[_Tags, list[Path]]:
    """The parsed page and the image files its <img> tags point to (each must exist)."""
    path = site / name
    assert path.is_file(), f"{name} was not built"
    tags = _Tags()
    tags.feed(path.read_text(encoding="utf-8"))
    files = [(path.parent / src.split("?")[0]).resolve() for src in tags.images]
    missing = [str(f) for f in files if not f.is_file() or f.stat().st_size == 0]
    assert not missing, f"{name}: images missing from the site: {missing}"
    return tags, files


def _stored_figures(path: Path) -> set[str]:
    """SHA-256 of every image output stored in the notebook at `path`."""
    digests = set()
    for cell in read(path).cells:
        for output in cell.get("outputs", []):
            for kind in IMAGE_TYPES:
                if kind in output.get("data", {}):
                    digests.add(hashlib.sha256(base64.b64decode(output["data"][kind])).hexdigest())
    return digests


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book") / "html"
    result = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-c", str(ROOT / "book"), "-q",
                             str(ROOT), str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_the_site_has_an_entry_page_leading_to_every_notebook(site):
    assert "book/index.html" in (site / "index.html").read_text(encoding="utf-8")
    index = (site / "book" / "index.html").read_text(encoding="utf-8")
    for notebook in NOTEBOOKS:
        assert f"notebooks/{notebook.stem}.html" in index, notebook.name


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_page_shows_its_stored_figures(site, notebook):
    stored = _stored_figures(notebook)
    assert stored, f"{notebook.name} stores no figure"
    tags, files = _page(site, f"notebooks/{notebook.stem}.html")
    shown = {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    assert stored <= shown, f"{len(stored - shown)} of {len(stored)} stored figures are not on the page"
    text = " ".join(tags.text)
    assert read(notebook).cells[0].source.splitlines()[0].lstrip("# ").split(":")[0] in text
    assert "VBox(children=" not in text, "an explorer's widget repr is shown instead of the note"
    assert not tags.external, f"the page loads from other hosts: {tags.external}"


@pytest.mark.parametrize("name, figures", PAGES.items(), ids=list(PAGES))
def test_overview_method_and_results_pages_show_their_figures(site, name, figures):
    tags, files = _page(site, name)
    assert len(files) >= figures
    assert not tags.external, f"{name} loads from other hosts: {tags.external}"


def test_equations_are_mathml_not_tex(site):
    method = (site / "docs" / "METHOD.html").read_text(encoding="utf-8")
    assert method.count("<math") > 10 and "\\mathcal{L}" not in method


@pytest.mark.slow
def test_a_notebook_page_in_chromium_draws_its_figures_and_equations(site, chromium, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 820})
        page.goto((site / "notebooks" / "03_gram_style.html").as_uri())
        images = page.eval_on_selector_all("article img", "els => els.map(e => e.complete && e.naturalWidth)")
        equations = page.eval_on_selector_all("article math", "els => els.map(e => e.getBoundingClientRect().width)")
        note = page.locator(".explorer-note").first
        note.scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, -300)")  # the section heading, an equation and the static figure above it
        page.screenshot(path=str(tmp_path / "book_page.png"))
        browser.close()
    assert images and all(width > 0 for width in images), images
    assert equations and all(width > 0 for width in equations)
    if os.environ.get("CCDISTILL_BOOK_SCREENSHOT"):
        Path(os.environ["CCDISTILL_BOOK_SCREENSHOT"]).write_bytes((tmp_path / "book_page.png").read_bytes())
