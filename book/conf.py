"""Sphinx configuration of the course site (`make book`).

The source folder is the repository root, so the site reads the files where they live (the
README, docs/*.md, the stored notebooks) and their relative links and figures resolve as on
the repository; `include_patterns` picks the pages. The notebooks are rendered from their
stored outputs, never executed (`nb_execution_mode = "off"`): the site shows what
`make notebooks` stored, and builds offline in seconds.
"""

import re
from pathlib import Path

from docutils import nodes

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["book/index.md", "README.md", "docs/METHOD.md", "docs/RESULTS.md", "notebooks/[0-9][0-9]_*.ipynb"]

project = "ccdistill"
author = "the ccdistill authors"
copyright = "the ccdistill authors"

extensions = ["myst_nb"]
root_doc = "book/index"
# Only the pages are read, and only the folders that hold them are walked (not .venv, data/, ...).
include_patterns = PAGES
exclude_patterns = sorted(path.name for path in ROOT.iterdir() if path.name not in {"book", "docs", "notebooks"}
                          and not path.name.endswith(".md")) + ["notebooks/students", "**/.ipynb_checkpoints"]

nb_execution_mode = "off"
# The explorers are live widgets; their state is not stored (it would be megabytes per notebook),
# so the site shows no widget view (and loads no widget JavaScript), only the static figures.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
# An explorer's stored text fallback, `VBox(children=(HBox(...`, says nothing to a reader: its
# output block becomes the note below (setup()).
WIDGET_REPR = re.compile(r"^(VBox|HBox|Box|GridBox|Tab|Accordion)\(children=")
WIDGET_NOTE = ("An explorer (sliders and a live figure) appears here when the notebook runs in Jupyter; "
               "the site shows the static figures only.")
myst_enable_extensions = ["dollarmath"]
# Equations become MathML when the site is built (latex2mathml), which browsers draw natively: the
# pages need no MathJax from a CDN, so the site reads the same offline (a classroom, a laptop).
html_math_renderer = "mathml"
myst_heading_anchors = 3  # GitHub-style anchors, so links such as METHOD.md#provenance-... resolve

# A link to a repository file that is no page of the site (docs/RESULTS_TABLE.md, ...) is shown as
# its plain text; the pages are written for the repository first.
suppress_warnings = ["myst.xref_missing"]

html_theme = "sphinx_book_theme"
html_title = "ccdistill: a course on CCDistill"
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {"show_toc_level": 2}


def replace_widget_reprs(app, doctree) -> None:
    for block in list(doctree.findall(nodes.literal_block)):
        if "text_plain" in block["classes"] and WIDGET_REPR.match(block.astext()):
            block.replace_self(nodes.paragraph("", "", nodes.emphasis("", WIDGET_NOTE), classes=["explorer-note"]))


def _mathml(latex: str, display: str) -> str:
    from latex2mathml.converter import convert

    return convert(latex.strip(), display=display)


def visit_inline_math(translator, node) -> None:
    translator.body.append(_mathml(node.astext(), "inline"))
    raise nodes.SkipNode


def visit_block_math(translator, node) -> None:
    # Blank lines separate equations in one block, as Sphinx's MathJax renderer reads them.
    parts = [part for part in node.astext().split("\n\n") if part.strip()]
    translator.body.append('<div class="math notranslate">' + "".join(_mathml(p, "block") for p in parts) + "</div>")
    raise nodes.SkipNode


def write_site_index(app, exception) -> None:
    """index.html at the top of the site, leading to the root page (book/index.html)."""
    if exception is None and app.builder.format == "html":
        target = f"{root_doc}.html"
        (Path(app.outdir) / "index.html").write_text(
            f'<!DOCTYPE html>\n<meta charset="utf-8">\n<meta http-equiv="refresh" content="0; url={target}">\n'
            f'<title>{html_title}</title>\n<a href="{target}">{html_title}</a>\n', encoding="utf-8")


def setup(app):
    app.connect("doctree-read", replace_widget_reprs)
    app.connect("build-finished", write_site_index)
    app.add_html_math_renderer("mathml", (visit_inline_math, None), (visit_block_math, None))
