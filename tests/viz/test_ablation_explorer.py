"""The ablation explorer on synthetic result files: every control changes what is shown."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from ccdistill.errors import InputError
from ccdistill.experiments import load_registry
from ccdistill.experiments.lab import compare
from ccdistill.experiments.results import write_json_atomic
from ccdistill.experiments.table import collect
from ccdistill.viz._common import figure_to_png
from ccdistill.viz.ablation import AblationExplorer, plot_ablation

# (static IoU, dynamic IoU) per seed; person and car carry the dynamic value.
IOU = {"source_only": [(0.10, 0.30), (0.12, 0.28), (0.11, 0.29)], "pseudo": [(0.40, 0.20), (0.38, 0.22), (0.41, 0.21)],
       "full": [(0.39, 0.25), (0.39, 0.27), (0.40, 0.20)], "oracle": [(0.50, 0.55), (0.51, 0.54), (0.50, 0.56)],
       "cdc": [(0.37, 0.24), (0.36, 0.23), (0.38, 0.26)]}
ROWS = ("source_only", "pseudo", "full")


def _result(static: float, dynamic: float) -> dict:
    per_class = [static] * 11 + [dynamic if k in (11, 13) else None for k in range(11, 19)]
    miou = (11 * static + 2 * dynamic) / 13
    return {"metrics": {"test": {"miou": miou, "per_class_iou": per_class}, "val": {"miou": miou, "per_class_iou": per_class}},
            "config": {"profile": "cpu", "train": {"max_iterations": 600, "seed": 0}}}


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ablation_results")
    for row, values in IOU.items():
        for seed, value in enumerate(values):
            write_json_atomic(_result(*value), folder / f"{row}__seed{seed}.json")
    return collect(load_registry(), folder)


@pytest.mark.parametrize("control, value", [
    ("rows", ("pseudo", "full")),
    ("rows", ("source_only", "pseudo", "full", "oracle")),
    ("group", "static"),
    ("group", "dynamic"),
    ("a", "cdc"),
    ("b", "source_only"),
])
def test_every_control_changes_the_figure_and_the_readout(collected, control, value):
    explorer = AblationExplorer(collected, rows=ROWS, group="all", pair=("full", "pseudo"))
    png, readout = explorer.image.value, explorer.readout.value
    last = explorer.update(**{control: value})
    assert explorer.image.value != png, f"moving {control} left the figure unchanged"
    assert explorer.readout.value != readout, f"moving {control} left the readout unchanged"
    assert explorer.controls[control].value == value and last is explorer.last


def test_what_it_shows_is_the_lab_computation(collected):
    explorer = AblationExplorer(collected, rows=ROWS)
    last = explorer.update(group="dynamic", a="full", b="pseudo", rows=["pseudo", "full"])
    expected = compare(collected, "full", "pseudo", "dynamic")
    assert last["pair"] == expected and last["rows"] == ("pseudo", "full") and set(last["means"]) == {"pseudo", "full"}
    assert last["means"]["full"][0] == pytest.approx(sum(v[1] for v in IOU["full"]) / 3)
    assert f"{100 * expected.mean:+.2f}" in explorer.readout.value and "dynamic classes" in explorer.readout.value


def test_the_static_figure_is_the_initial_state(collected):
    explorer = AblationExplorer(collected, rows=ROWS, group="static", pair=("cdc", "pseudo"))
    figure = plot_ablation(collected, rows=ROWS, group="static", pair=("cdc", "pseudo"), dpi=explorer.view.figure.dpi)
    assert isinstance(figure, Figure)
    assert figure_to_png(figure) == explorer.image.value


def test_missing_rows_are_shown_as_missing_and_bad_values_are_refused(collected):
    explorer = AblationExplorer(collected, rows=("full", "full_no_pseudo"), pair=("full_no_pseudo", "target_bn"))
    assert "full_no_pseudo (seeds 0, 1, 2)" in explorer.readout.value and "no seed has a result file" in explorer.readout.value
    with pytest.raises(InputError, match="rows must be"):
        explorer.update(rows=["nope"])
    with pytest.raises(InputError, match="rows must be"):
        explorer.update(rows=[])
    with pytest.raises(InputError, match="group must be one of"):
        explorer.update(group="moving")
    with pytest.raises(InputError, match="no registry row"):
        AblationExplorer(collected, rows=("nope",))
