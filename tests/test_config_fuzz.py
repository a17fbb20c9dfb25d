"""Fuzzed params: any malformed file is a one-line error naming the key path, never a traceback."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import parse_params
from pipeline.utils.configparse import ConfigError
from stages import train as train_stage
from stages.common import run_stage
from tests.conftest import BASE_PARAMS

pytestmark = pytest.mark.reliability

# A key path as the messages write it: pairs.digits_mlp.optim.lr, run.pairs[0], <root>, or a file name first.
SEGMENT = r'(\.[\w\-]+|\[\d+\]|\["(?:[^"\\]|\\.)*"\])'
KEY_PATH = re.compile(rf"^(<root>|[\w\-]+){SEGMENT}*: \S")

JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
NAMES = st.sampled_from(["imagenet", "gpt", "ml4", "digits_vgg", "lstm", "", "Baseline", "adalfl "])


def paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path (dict keys and list indices) inside ``tree``."""
    found = []
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else []
    for key, value in items:
        found.append(prefix + (key,))
        found.extend(paths(value, prefix + (key,)))
    return found


ALL_PATHS = paths(BASE_PARAMS)


@st.composite
def mutated_params(draw: st.DrawFn) -> dict[str, Any]:
    """BASE_PARAMS with 1-3 mutations: a wrong value, a removed key, an unknown key, or an unknown name."""
    params = copy.deepcopy(BASE_PARAMS)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = params
        for key in path[:-1]:
            if not _holds(parent, key):  # an earlier mutation changed this branch
                break
            parent = parent[key]
        else:
            _mutate(draw, parent, path[-1])
    return params


def _holds(parent: Any, key: Any) -> bool:
    """parent[key] exists (an earlier mutation may have turned a mapping into a list, or the reverse)."""
    if isinstance(parent, dict):
        return key in parent
    return isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent)


def _mutate(draw: st.DrawFn, parent: Any, key: Any) -> None:
    kind = draw(st.sampled_from(["value", "remove", "unknown", "name"]))
    if not isinstance(parent, (dict, list)):  # an earlier mutation replaced it
        return
    if isinstance(parent, list):
        if _holds(parent, key):
            parent[key] = draw(JUNK) if kind == "value" else draw(NAMES)
    elif kind == "remove":
        parent.pop(key, None)
    elif kind == "unknown":
        parent[draw(st.one_of(st.text(min_size=1, max_size=8), st.integers(), NAMES))] = draw(JUNK)
    elif kind == "name" and isinstance(parent.get(key), dict):
        parent[draw(NAMES)] = parent.pop(key)  # rename a pair, method or offline phase
    else:
        parent[key] = draw(st.one_of(JUNK, NAMES))


def assert_one_line_with_key_path(message: str) -> None:
    assert "\n" not in message, message
    assert KEY_PATH.match(message), message


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_params())
def test_fuzzed_params_parse_or_fail_in_one_line(params):
    try:
        parse_params(params)
    except ConfigError as error:
        assert_one_line_with_key_path(str(error))


@settings(max_examples=200, deadline=None)
@given(st.one_of(JUNK, st.lists(JUNK, max_size=3), st.dictionaries(st.one_of(st.text(max_size=6), st.integers()), JUNK, max_size=3)))
def test_any_yaml_document_parses_or_fails_in_one_line(document):
    try:
        parse_params(document)
    except ConfigError as error:
        assert_one_line_with_key_path(str(error))
    else:  # only mappings of known keys (all with defaults) can be a valid params file
        assert document is None or (isinstance(document, dict) and set(document) <= {"seeds", "device", "datasets"})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=mutated_params(), raw_tail=st.sampled_from(["", "\n: :", "\n- [", "\n\t bad"]))
def test_stage_turns_fuzzed_files_into_exit_code_2(tmp_path_factory, params, raw_tail):
    """Through a real stage entry point: exit 2 and one line on stderr, or the stage runs past config."""
    path = tmp_path_factory.mktemp("fuzz") / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False) + raw_tail)
    args = ["--params", str(path), "--pair", "nonexistent_pair", "--method", "baseline"]
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = run_stage(train_stage.main, train_stage.build_parser(), args)
    assert code == 2
    line = err.getvalue().strip()
    assert line.startswith("error: ") and "\n" not in line
    message = line.removeprefix(f"error: {path}: ")
    if not message.startswith("not valid YAML ("):  # a syntax error has a line, not a key path
        assert_one_line_with_key_path(message)
