"""Inputs an explorer cannot take are answered with one sentence naming the argument, the value,
what was expected and what to do (an InputError), in the constructor as in `update()` and in the
plot functions: wrong types, bools for numbers, NaN, values outside a slider, unknown or
unavailable choices (issue 18). One test per case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ccdistill import viz
from ccdistill.errors import InputError

from .conftest import SIZE, build_explorer, one_each


def one_sentence(error: pytest.ExceptionInfo, *parts: str) -> str:
    message = str(error.value)
    assert message.replace("e.g. ", "e.g.").count(". ") == 0 and "\n" not in message, message
    for part in parts:
        assert part in message, (part, message)
    return message


# (explorer, update() arguments, parts of the sentence)
UPDATES = [
    ("prediction", {"index": "2"}, ("index", "'2' (a str)", "integer from 0 to 2", "index=2")),
    ("prediction", {"index": None}, ("index", "None (a NoneType)", "integer from 0 to 2", "pass an int")),
    ("prediction", {"index": True}, ("index", "True (a bool)", "integer")),
    ("prediction", {"index": 1.0}, ("index", "1.0 (a float)", "index=1")),
    ("prediction", {"index": 3}, ("index", "got 3", "from 0 to 2", "index=2")),
    ("prediction", {"index": -1}, ("index", "got -1", "index=0")),
    ("prediction", {"domain": "dusk"}, ("domain", "'dusk'", "'night', 'day'")),
    ("prediction", {"domain": None}, ("domain", "None", "one of")),
    ("cosine", {"x": 128}, ("x", "got 128", "from 0 to 127", "x=127")),
    ("cosine", {"y": float("nan")}, ("y", "nan (a float)", "integer")),
    ("cosine", {"pair": "night"}, ("pair", "'night'", "'source', 'target'")),
    ("correlation", {"grid": "4"}, ("grid", "'4' (a str)", "grid=4")),
    ("correlation", {"grid": 0}, ("grid", "got 0", "from 1 to 8")),
    ("correlation", {"granularity": "pixel"}, ("granularity", "'pixel'", "'image', 'token'")),
    ("correlation", {"illumination_pairs": "diagonal"}, ("illumination_pairs", "'diagonal'", "'aligned', 'all'")),
    ("gram", {"night": 1.5}, ("night", "got 1.5", "from 0 to 1", "night=1")),
    ("gram", {"night": float("nan")}, ("night", "got nan", "from 0 to 1")),
    ("gram", {"night": "0.5"}, ("night", "'0.5' (a str)", "pass a float")),
    ("gram", {"night": True}, ("night", "True (a bool)", "number")),
    ("gram", {"mode": "cos"}, ("mode", "'cos'", "'cosine', 'difference'")),
    ("translation", {"beta": math.inf}, ("beta", "got inf", "from 0 to 0.2")),
    ("translation", {"beta": None}, ("beta", "None", "pass a float")),
    ("translation", {"method": "cyclegan"}, ("method", "'cyclegan'", "'fda', 'lab', 'relight', 'true night'")),
    ("embedding", {"method": "umap"}, ("method", "'umap'", "'pca', 'tsne'")),
    ("embedding", {"colour": 1}, ("colour", "1 (a int)", "'class', 'domain'")),
    ("cosine", {"z": 1}, ("no control 'z'", "x, y, pair, space")),
]


@pytest.mark.parametrize("name, values, parts", UPDATES,
                         ids=[f"{n}-{'-'.join(f'{k}={v!r}' for k, v in a.items())}" for n, a, _ in UPDATES])
def test_update_refuses_in_one_sentence_and_changes_nothing(name, values, parts, model, segmenters, streams, split):
    explorer = build_explorer(name, model, segmenters, streams, split)
    before, figure = explorer.values(), bytes(explorer.image.value)
    with pytest.raises(InputError) as error:
        explorer.update(**values)
    one_sentence(error, *parts)
    assert explorer.values() == before and bytes(explorer.image.value) == figure


def test_a_refused_value_refuses_the_whole_call(model, segmenters, streams, split):
    browser = build_explorer("prediction", model, segmenters, streams, split)
    with pytest.raises(InputError):
        browser.update(index=1, domain="dusk")
    assert browser.values()["index"] == 0


# (constructor call, parts of the sentence)
def _cosine(**kwargs):
    return lambda model, segmenters, streams, split: viz.CosineMapExplorer(model, one_each(streams), **kwargs)


def _correlation(**kwargs):
    return lambda model, segmenters, streams, split: viz.CorrelationExplorer(model, streams, **kwargs)


def _gram(**kwargs):
    return lambda model, segmenters, streams, split: viz.GramExplorer(model, size=SIZE, **kwargs)


def _translation(**kwargs):
    return lambda model, segmenters, streams, split: viz.TranslationExplorer(streams["S_d"][0], streams["T_n"][0], **kwargs)


def _prediction(split_keys=("night", "day", "label"), **kwargs):
    return lambda model, segmenters, streams, split: viz.PredictionBrowser(
        segmenters, {k: split[k] for k in split_keys}, **kwargs)


def _embedding(labelled=True, **kwargs):
    def build(model, segmenters, streams, split):
        labels = {"S_n": streams["label"]} if labelled else None
        return viz.EmbeddingView(segmenters, {"S_n": streams["S_n"]}, labels, **kwargs)
    return build


CONSTRUCTORS = {
    "cosine query outside the image": (_cosine(query_xy=(500, 10)), ("x", "got 500", "from 0 to 127", "x=127")),
    "cosine query above the image": (_cosine(query_xy=(10, -1)), ("y", "got -1", "from 0 to 63", "y=0")),
    "cosine query of bools": (_cosine(query_xy=(True, 5)), ("x", "True (a bool)", "integer")),
    "cosine query of floats": (_cosine(query_xy=(10.5, 5)), ("x", "10.5 (a float)", "pass an int")),
    "cosine query not a pair": (_cosine(query_xy=(1, 2, 3)), ("query_xy", "(1, 2, 3)", "(x, y) pair", "query_xy=(")),
    "cosine query a string": (_cosine(query_xy="centre"), ("query_xy", "'centre'", "leave it out")),
    "cosine unknown pair": (_cosine(pair="night"), ("pair", "'night'", "'source', 'target'")),
    "cosine pair the images lack": (
        lambda model, segmenters, streams, split: viz.CosineMapExplorer(
            model, {"S_d": streams["S_d"][0], "S_n": streams["S_n"][0]}, pair="target"),
        ("pair='target' is not available", "no T_d and T_n", "add them")),
    "cosine embeddings of a plain segmenter": (
        lambda model, segmenters, streams, split: viz.CosineMapExplorer(
            segmenters["before"], one_each(streams), space="embeddings"),
        ("space='embeddings' is not available", "projection head", "space='features'")),
    "correlation grid 0": (_correlation(grid=0), ("grid", "got 0", "from 1 to 8")),
    "correlation grid past the map": (_correlation(grid=99), ("grid", "got 99", "grid=8")),
    "correlation grid a float": (_correlation(grid=2.5), ("grid", "2.5 (a float)")),
    "correlation grid a bool": (_correlation(grid=True), ("grid", "True (a bool)")),
    "correlation unknown granularity": (_correlation(granularity="pixel"), ("granularity", "'pixel'")),
    "correlation unknown pairs": (_correlation(illumination_pairs="diagonal"), ("illumination_pairs", "'diagonal'")),
    "gram night past 1": (_gram(night=1.5), ("night", "got 1.5", "from 0 to 1")),
    "gram night NaN": (_gram(night=float("nan")), ("night", "got nan")),
    "gram night a string": (_gram(night="dusk"), ("night", "'dusk' (a str)")),
    "gram unknown mode": (_gram(mode="cos"), ("mode", "'cos'", "'cosine', 'difference'")),
    "gram center not a flag": (_gram(center="yes"), ("center", "'yes' (a str)", "center=True or center=False")),
    "gram scene not a scene": (_gram(scene="abc"), ("scene", "str", "sample_scene")),
    "translation beta past the slider": (_translation(beta=0.5), ("beta", "got 0.5", "from 0 to 0.2", "beta=0.2")),
    "translation beta NaN": (_translation(beta=float("nan")), ("beta", "got nan")),
    "translation beta a string": (_translation(beta="0.1"), ("beta", "'0.1' (a str)")),
    "translation unknown method": (_translation(method="cyclegan"), ("method", "'cyclegan'")),
    "translation true night without it": (_translation(method="true night"),
                                          ("method='true night' is not available", "pass true_night=")),
    "prediction index past the split": (_prediction(index=3), ("index", "got 3", "from 0 to 2")),
    "prediction index a string": (_prediction(index="0"), ("index", "'0' (a str)", "index=0")),
    "prediction day without day images": (_prediction(split_keys=("night", "label"), domain="day"),
                                          ("domain='day' is not available", "no 'day' images")),
    "prediction num_classes 0": (_prediction(num_classes=0), ("num_classes", "0", "≥ 1")),
    "embedding unknown method": (_embedding(method="umap"), ("method", "'umap'", "'pca', 'tsne'")),
    "embedding class colours without labels": (_embedding(labelled=False, colour="class"),
                                               ("colour='class' is not available", "pass labels=")),
    "embedding max_points 0": (_embedding(max_points=0), ("max_points", "0", "≥ 1")),
    "embedding max_points a bool": (_embedding(max_points=True), ("max_points", "True (a bool)")),
}


def test_constructor_and_update_refuse_an_outside_query_alike(model, streams):
    explorer = viz.CosineMapExplorer(model, one_each(streams))
    with pytest.raises(InputError) as by_update:
        explorer.update(x=500)
    with pytest.raises(InputError) as by_constructor:
        viz.CosineMapExplorer(model, one_each(streams), query_xy=(500, 10))
    assert str(by_constructor.value) == str(by_update.value)


PLOTS = {
    "plot_cosine_maps query outside": (
        lambda model, segmenters, streams, split: viz.plot_cosine_maps(model, one_each(streams), (500, 10)),
        ("query_xy", "outside", "x must be in 0..127")),
    "plot_cosine_maps unknown space": (
        lambda model, segmenters, streams, split: viz.plot_cosine_maps(model, one_each(streams), (5, 5), space="F"),
        ("space", "'F'", "'embeddings', 'features'")),
    "plot_correlations grid 0": (
        lambda model, segmenters, streams, split: viz.plot_correlations(model, streams, "token", 0),
        ("grid", "got 0", "from 1 to 8")),
    "plot_gram_differences night past 1": (
        lambda model, segmenters, streams, split: viz.plot_gram_differences(model, (0.0, 2.0), size=SIZE),
        ("nights[1]", "got 2", "from 0 to 1")),
    "plot_gram_differences nights a number": (
        lambda model, segmenters, streams, split: viz.plot_gram_differences(model, 0.5, size=SIZE),
        ("nights", "0.5", "sequence")),
    "plot_translations beta negative": (
        lambda model, segmenters, streams, split: viz.plot_translations(streams["S_d"][0], streams["T_n"][0], beta=-1),
        ("beta", "got -1", "from 0")),
    "plot_predictions index past the split": (
        lambda model, segmenters, streams, split: viz.plot_predictions(segmenters, split, index=7),
        ("index", "got 7", "from 0 to 2")),
    "plot_embedding unknown method": (
        lambda model, segmenters, streams, split: viz.plot_embedding(segmenters, {"S_n": streams["S_n"]}, method="umap"),
        ("method", "'umap'")),
}


@pytest.mark.parametrize("case", {**CONSTRUCTORS, **PLOTS})
def test_constructor_or_plot_function_refuses_in_one_sentence(case, model, segmenters, streams, split):
    call, parts = {**CONSTRUCTORS, **PLOTS}[case]
    with pytest.raises(InputError) as error:
        call(model, segmenters, streams, split)
    one_sentence(error, *parts)


def test_numpy_integers_are_taken_as_ints(model, segmenters, streams, split):
    browser = build_explorer("prediction", model, segmenters, streams, split)
    assert browser.update(index=np.int64(2))["index"] == 2
