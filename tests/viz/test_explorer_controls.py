"""Every control of every explorer changes the figure in each state it is shown in, or is
disabled there (issue 17, item 4): moved through `.update()` as a user would move it, in every
combination of the explorer's buttons and drop-downs."""

from __future__ import annotations

import itertools

import pytest

from .conftest import EXPLORERS, build_explorer


def allowed(control) -> list:
    return [o[1] if isinstance(o, tuple) else o for o in control.options]


def states(explorer) -> list[dict]:
    """Every combination of the option controls' values (sliders stay where they are)."""
    options = {name: allowed(c) for name, c in explorer.controls.items() if hasattr(c, "options")}
    return [dict(zip(options, combo)) for combo in itertools.product(*options.values())]


def moved(control):
    """Another value of the control: the next option, or the far end of a slider."""
    if hasattr(control, "options"):
        values = allowed(control)
        return values[(values.index(control.value) + 1) % len(values)]
    return control.max if control.value != control.max else control.min


@pytest.mark.parametrize("name", EXPLORERS)
def test_every_control_changes_the_figure_or_is_disabled(name, model, segmenters, streams, split):
    explorer = build_explorer(name, model, segmenters, streams, split)
    checked = 0
    for state in states(explorer):
        for control_name, control in explorer.controls.items():
            explorer.update(**state)
            figure, disabled = bytes(explorer.image.value), control.disabled
            if moved(control) == control.value:  # one option, or a slider without range
                assert disabled, f"{name}: {control_name} cannot move at {state} but is enabled"
                continue
            explorer.update(**{control_name: moved(control)})
            changed = bytes(explorer.image.value) != figure
            assert changed or disabled, f"{name}: moving {control_name} at {state} changed nothing visible"
            assert not (changed and disabled), f"{name}: {control_name} is disabled at {state} but changes the figure"
            checked += 1
    assert checked >= len(explorer.controls)


def test_grid_k_is_enabled_exactly_at_token_granularity(model, segmenters, streams, split):
    explorer = build_explorer("correlation", model, segmenters, streams, split)
    assert explorer.controls["grid"].disabled  # image granularity: one vector per image, K unused
    explorer.update(granularity="token")
    assert not explorer.controls["grid"].disabled


def test_beta_is_enabled_only_for_fda(model, segmenters, streams, split):
    explorer = build_explorer("translation", model, segmenters, streams, split)
    for method in ("fda", "lab", "relight", "true night"):
        explorer.update(method=method)
        assert explorer.controls["beta"].disabled == (method != "fda")


def test_a_control_with_one_choice_is_disabled(segmenters, streams):
    from ccdistill.viz import CosineMapExplorer

    explorer = CosineMapExplorer(segmenters["before"], {"S_d": streams["S_d"][0], "S_n": streams["S_n"][0]})
    assert explorer.controls["pair"].disabled and explorer.controls["space"].disabled
    assert not explorer.controls["x"].disabled


@pytest.mark.parametrize("name", EXPLORERS)
def test_the_figure_is_a_png_of_at_least_100_dpi(name, model, segmenters, streams, split):
    from PIL import Image
    import io

    explorer = build_explorer(name, model, segmenters, streams, split)
    assert explorer.view.figure.dpi >= 100
    width, height = explorer.view.figure.get_size_inches() * explorer.view.figure.dpi
    shown = Image.open(io.BytesIO(bytes(explorer.image.value))).size
    assert abs(shown[0] - width) < 1 and abs(shown[1] - height) < 1, (shown, width, height)
