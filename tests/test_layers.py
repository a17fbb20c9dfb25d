"""The library's layering (tools/layers.py): no import circles, no import up the layers, every module placed."""

import networkx as nx

from tools.layers import LAYERS, circles, import_graph, layer_of, unplaced, upward_imports


def test_no_module_imports_a_module_of_a_higher_layer():
    assert upward_imports(import_graph()) == []


def test_no_import_circles():
    assert circles(import_graph()) == []


def test_every_module_has_a_layer():
    """A new module needs a line in tools/layers.py:LAYERS (the test names it)."""
    assert unplaced(import_graph()) == []


def test_the_checks_catch_an_upward_import_and_a_circle():
    """The checks on a made-up graph: learned importing the training loop runs up the layers and closes a circle."""
    graph = nx.DiGraph([("training.loop", "learned.rules.base"), ("learned.rules.base", "training.loop"), ("meta.forward", "optim")])
    assert upward_imports(graph) == ["learned.rules.base (learned) -> training.loop (training)"]
    assert circles(graph) == [["learned.rules.base", "training.loop"]]
    assert unplaced(nx.DiGraph([("newthing", "utils.io")])) == ["newthing"]


def test_the_most_specific_pattern_places_a_module():
    names = [name for name, _ in LAYERS]
    assert names[layer_of("tuning.config")] == "section configs" and names[layer_of("tuning.study")] == "orchestration"
    assert names[layer_of("report.build")] == "report and API" and names[layer_of("models.small")] == "models"
