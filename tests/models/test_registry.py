from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from torch.func import functional_call

from pipeline.data.registry import DATASETS
from pipeline.models import MODELS, build_model, check_pairing, count_parameters

# The input each data set gives a model (features, or C x H x W) and its outputs.
DATA_SHAPES = {
    "diabetes": ((10,), 1), "crime": ((100,), 1), "california": ((8,), 1),
    "digits": ((1, 8, 8), 10), "mnist": ((1, 28, 28), 10), "mnist5k": ((1, 28, 28), 10),
    "cifar10": ((3, 32, 32), 10), "cifar100": ((3, 32, 32), 100), "svhn": ((3, 32, 32), 10),
}
PAIRS = [(d, m) for d in DATASETS for m in MODELS if check_pairing(d, m) is None]


def test_every_paper_pair_is_allowed():
    paper = {("crime", "mlp"), ("diabetes", "mlp"), ("california", "mlp"), ("mnist", "logistic"), ("mnist", "mlp"),
             ("mnist", "lenet5"), ("cifar10", "vgg16"), ("cifar10", "allcnnc"), ("cifar10", "resnet18"),
             ("cifar10", "squeezenet"), ("cifar100", "wrn28_10"), ("svhn", "wrn16_8"), ("digits", "lenet5")}
    assert paper <= set(PAIRS)
    assert check_pairing("digits", "resnet18") and check_pairing("diabetes", "lenet5")


@pytest.mark.parametrize(("dataset", "model"), PAIRS)
def test_forward_shape_on_every_paired_dataset(dataset, model):
    shape, n_out = DATA_SHAPES[dataset]
    net = build_model(model, shape, n_out, seed=0)
    with torch.no_grad():
        out = net.train()(torch.randn(2, *shape))
    assert out.shape == (2, n_out)


@pytest.mark.parametrize(
    ("model", "shape", "n_out", "published"),
    [("lenet5", (1, 32, 32), 10, 61_700), ("resnet18", (3, 32, 32), 10, 11_170_000),
     ("wrn28_10", (3, 32, 32), 10, 36_500_000), ("wrn16_8", (3, 32, 32), 10, 11_000_000),
     ("vgg16", (3, 32, 32), 10, 14_730_000), ("allcnnc", (3, 32, 32), 10, 1_370_000),
     ("mlp", (1, 28, 28), 10, 1_796_010), ("logistic", (1, 28, 28), 10, 7_850)],
)
def test_parameter_counts_match_published_forms(model, shape, n_out, published):
    n = count_parameters(build_model(model, shape, n_out, seed=0))
    assert abs(n - published) / published < 0.01


def test_digits_lenet_upsamples_8x8_to_32x32():
    net = build_model("lenet5", (1, 8, 8), 10, seed=0)
    x = torch.arange(64.0).reshape(1, 1, 8, 8)
    up = net.resize(x)
    assert up.shape == (1, 1, 32, 32)
    assert torch.equal(up[0, 0, :4, :4], torch.zeros(4, 4)) and up[0, 0, 4, 4] == 9.0  # each pixel a 4x4 block


@pytest.mark.parametrize("model", ["mlp", "lenet5", "resnet18"])
def test_same_seed_same_weights_different_seed_different(model):
    shape = (3, 32, 32) if model == "resnet18" else (1, 28, 28)
    a, b, c = (build_model(model, shape, 10, seed=s) for s in (7, 7, 8))
    for (name, pa), pb, pc in zip(a.state_dict().items(), b.state_dict().values(), c.state_dict().values()):
        assert torch.equal(pa, pb), name
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))


def test_building_a_model_leaves_global_rng_untouched():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_model("mlp", (10,), 1, seed=0)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(("model", "shape"), [("mlp", (10,)), ("lenet5", (1, 28, 28)), ("resnet18", (3, 32, 32)), ("wrn16_8", (3, 32, 32))])
@pytest.mark.parametrize("train_mode", [True, False])
def test_functional_call_reproduces_module_output(model, shape, train_mode):
    torch.manual_seed(0)
    net = build_model(model, shape, 10, seed=0).train(train_mode)
    x = torch.randn(4, *shape)
    params = {k: v.detach().clone() for k, v in net.named_parameters()}
    buffers = {k: v.detach().clone() for k, v in net.named_buffers()}
    with torch.no_grad():
        expected = net(x)
        got = functional_call(net, (params, buffers), (x,))
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_functional_call_updates_the_passed_buffers_not_the_modules():
    net = build_model("resnet18", (3, 32, 32), 10, seed=0).train()
    own = {k: v.clone() for k, v in net.named_buffers()}
    params = dict(net.named_parameters())
    passed = {k: v.clone() for k, v in net.named_buffers()}
    with torch.no_grad():
        functional_call(net, (params, passed), (torch.randn(4, 3, 32, 32),))
    key = "stem.1.running_mean"
    assert torch.equal(dict(net.named_buffers())[key], own[key])
    assert not torch.equal(passed[key], own[key])


def test_models_cli_prints_json_listing():
    out = subprocess.run([sys.executable, "-m", "tools.models", "--json"], capture_output=True, text=True, check=True).stdout
    records = json.loads(out)
    assert {r["name"] for r in records} == set(MODELS)
    assert {"name", "input_shape", "n_outputs", "n_params"} <= set(records[0])
    assert next(r for r in records if r["name"] == "resnet18")["n_params"] == 11_173_962


def test_catalog_used_by_config_checks_lists_exactly_the_buildable_models():
    from pipeline.models.catalog import MODEL_NEEDS

    assert set(MODEL_NEEDS) == set(MODELS)
