"""Task families, class pools, the Omniglot loader (on PNGs written in its own layout) and the fewshot config."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pipeline.utils.configparse import ConfigError, parse_dataclass
from pipeline.data.errors import DataUnavailableError
from pipeline.fewshot.config import FamilyConfig, FewshotConfig
from pipeline.fewshot.pools import omniglot_pools
from pipeline.fewshot.tasks import check_pool, image_tasks, rotated_classes, sinusoid_tasks


def test_sinusoid_tasks_follow_mamls_distribution():
    tasks = sinusoid_tasks(2000, 5, 7, torch.Generator().manual_seed(0))
    assert tasks.support_x.shape == (2000, 5, 1) and tasks.query_y.shape == (2000, 7, 1)
    assert float(tasks.support_x.min()) >= -5 and float(tasks.support_x.max()) <= 5
    peak = torch.cat([tasks.support_y, tasks.query_y], 1).abs().amax(dim=(1, 2))
    assert float(peak.max()) <= 5 and float(peak.max()) > 4.5  # amplitudes up to 5
    # one task's points lie on one sinusoid: y^2 / A^2 + ... is hard to test directly; refit A, phase by least squares
    x, y = torch.cat([tasks.support_x[0], tasks.query_x[0]]).squeeze(1), torch.cat([tasks.support_y[0], tasks.query_y[0]]).squeeze(1)
    design = torch.stack([torch.sin(x), torch.cos(x)], 1)
    coef = torch.linalg.lstsq(design, y.unsqueeze(1)).solution.squeeze(1)
    assert float((design @ coef - y).abs().max()) < 1e-4
    assert 0.1 - 1e-4 <= math.hypot(*coef.tolist()) <= 5 + 1e-4


def test_image_episodes_label_classes_in_draw_order_and_keep_support_and_query_apart():
    pool = [torch.full((6, 1, 2, 2), float(c)) + torch.arange(6.0).view(6, 1, 1, 1) / 10 for c in range(7)]
    tasks = image_tasks(pool, 50, 3, 2, 3, torch.Generator().manual_seed(0))
    assert tasks.support_x.shape == (50, 6, 1, 2, 2) and tasks.query_x.shape == (50, 9, 1, 2, 2)
    for t in range(50):
        for label in range(3):
            support = tasks.support_x[t][tasks.support_y[t] == label][:, 0, 0, 0]
            query = tasks.query_x[t][tasks.query_y[t] == label][:, 0, 0, 0]
            assert len(set(support.floor().tolist() + query.floor().tolist())) == 1  # one class per label
            assert not set(support.tolist()) & set(query.tolist())  # no image in both
    classes = {int(tasks.support_x[t, 0, 0, 0, 0].floor()) for t in range(50)}
    assert len(classes) > 3  # labels are re-drawn per task


def test_rotations_are_classes_of_their_own_and_short_pools_fail_in_one_line():
    image = torch.arange(4.0).view(1, 1, 2, 2)
    pool = rotated_classes({3: image}, (3,), (0, 90, 180))
    assert len(pool) == 3 and torch.equal(pool[1], torch.rot90(image, 1, (-2, -1)))
    family = FamilyConfig(kind="images", dataset="digits", ways=4, shots=(1,), rotations=(0, 90),
                          classes={"train": (0, 1), "valid": (2, 3, 4), "test": (5, 6, 7, 8, 9)})
    with pytest.raises(ValueError, match="3 classes, fewer than ways = 4"):
        check_pool(pool, family, "train", 1, 1)
    with pytest.raises(ValueError, match="a class has 1 images, fewer than shots \\+ query = 2"):
        check_pool([image] * 4, family, "train", 1, 1)


def write_omniglot(root, split: str, alphabets: int, characters: int, drawings: int) -> None:
    from PIL import Image

    for a in range(alphabets):
        for c in range(characters):
            folder = root / split / f"Alphabet_{a}" / f"character{c:02d}"
            folder.mkdir(parents=True)
            for d in range(drawings):
                pixels = np.full((105, 105), 255, dtype=np.uint8)
                pixels[10 * c:10 * c + 20, 5 * d:5 * d + 30] = 0  # ink: black strokes on white
                Image.fromarray(pixels).save(folder / f"{a:02d}{c:02d}_{d:02d}.png")


def test_omniglot_loader_reads_its_own_layout(tmp_path):
    write_omniglot(tmp_path, "images_background", alphabets=2, characters=4, drawings=3)
    write_omniglot(tmp_path, "images_evaluation", alphabets=1, characters=3, drawings=3)
    family = FamilyConfig(kind="images", dataset="omniglot", ways=2, shots=(1,), rotations=(0, 90))
    pools = omniglot_pools(tmp_path, family, seed=0)
    assert {k: len(v) for k, v in pools.items()} == {"train": 14, "valid": 2, "test": 6}  # 8 characters, 1 held out; x 2 rotations
    image = pools["test"][0]
    assert image.shape == (3, 1, 28, 28) and float(image.max()) == pytest.approx(1.0) and float(image.min()) == 0.0


def test_omniglot_absent_fails_in_one_line_naming_the_folder(tmp_path):
    family = FamilyConfig(kind="images", dataset="omniglot", ways=2, shots=(1,))
    with pytest.raises(DataUnavailableError, match=f"{tmp_path}/images_background") as error:
        omniglot_pools(tmp_path, family, seed=0)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("data", "message"), [
    ({"families": ["sine"], "tasks": {}}, "fewshot.families[0]: 'sine' is not defined"),
    ({"methods": ["reptile"]}, "fewshot.methods[0]: unknown method 'reptile'"),
    ({"tasks": {"d": {"kind": "images", "dataset": "cifar"}}}, "fewshot.tasks.d.dataset: expected one of"),
    ({"tasks": {"d": {"kind": "images", "dataset": "digits", "ways": 2, "classes": {"train": [0, 1], "valid": [1, 2], "test": [3, 4]}}}},
     "fewshot.tasks.d.classes.valid: expected digits 0-9 not used by another split"),
    ({"tasks": {"s": {"kind": "sinusoid", "train": {"inner_lr": 0}}}}, "fewshot.tasks.s.train.inner_lr: expected a number > 0"),
    ({"tasks": {"s": {"kind": "sinusoid", "shotz": [5]}}}, "fewshot.tasks.s.shotz: unknown key"),
])
def test_bad_fewshot_params_fail_with_the_key_path(data, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_dataclass(FewshotConfig, data, "fewshot")
