"""The translation explorer: each method through the library functions."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from ccdistill.data.translate import fda_translate
from ccdistill.errors import InputError
from ccdistill.viz import TranslationExplorer, plot_translations


@pytest.fixture
def explorer(streams):
    return TranslationExplorer(streams["S_d"][0], streams["T_n"][0], true_night=streams["S_n"][0])


def test_fda_follows_beta_and_beta_zero_keeps_the_day_image(explorer, streams):
    last = explorer.update(method="fda", beta=0.0)
    np.testing.assert_array_equal(last["S_n"], streams["S_d"][0])
    html = explorer.readout.value
    last = explorer.update(beta=0.1)
    np.testing.assert_array_equal(last["S_n"], fda_translate(streams["S_d"][0], streams["T_n"][0], 0.1))
    assert explorer.readout.value != html and "β = 0.100" in explorer.readout.value


def test_lab_transfer_closes_the_colour_gap_and_true_night_is_the_rendering(explorer, streams):
    last = explorer.update(method="lab")
    assert last["gap_after"] < 0.2 * last["gap_before"]
    last = explorer.update(method="true night")
    np.testing.assert_array_equal(last["S_n"], streams["S_n"][0])
    assert explorer.update(method="relight")["S_n"].mean() < streams["S_d"][0].mean()


def test_true_night_is_offered_only_when_given(streams):
    explorer = TranslationExplorer(streams["S_d"][0], streams["T_n"][0])
    assert "true night" not in explorer.controls["method"].options
    with pytest.raises(InputError, match="not available here.*pass true_night="):
        explorer.update(method="true night")


def test_plot_translations_has_a_panel_per_method_titled_with_its_gap(streams, tmp_path):
    figure = plot_translations(streams["S_d"][0], streams["T_n"][0], streams["S_n"][0], save=tmp_path / "t.png")
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert isinstance(figure, Figure) and len(titles) == 2 + 4, titles
    assert [t.split(":")[0] for t in titles[2:]] == ["S_n by fda, β = 0.050", "S_n by lab", "S_n by relight",
                                                   "S_n by true night"]
    assert all("gap" in t for t in titles if not t.startswith("T_n"))
