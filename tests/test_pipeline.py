"""The whole DVC pipeline on a shrunk copy of the real params, in a temporary git repository."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
import yaml

from tests.pipeline_repo import env, make_repo, run, shrunk_params


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = make_repo(tmp_path_factory.mktemp("dvc"), shrunk_params())
    run(repo, "dvc", "repro")
    return repo


ONLINE_PHASES = ("adalfl", "meta_lr", "taylor_quadratic", "taylor_cubic")  # the report measures how far they move phi


def test_repro_writes_every_report_file(repo):
    metrics = json.loads((repo / "reports" / "metrics.json").read_text())
    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert set(metrics) == {"digits_logistic", "fewshot"}
    assert set(metrics["fewshot"]["sinusoid"]) == {"maml", "meta_sgd"}  # the few-shot branch reports beside the pairs
    assert all(set(by_shot) == {"K5", "K10"} for by_shot in metrics["fewshot"]["sinusoid"].values())
    methods = params["run"]["methods"]
    assert set(metrics["digits_logistic"]) == set(methods)
    assert all(0 <= error <= 1 for error in metrics["digits_logistic"].values())  # dvc exp show leads with these
    detail = json.loads((repo / "reports" / "metrics_detail.json").read_text())["digits_logistic"]
    for method, summary in detail.items():
        assert set(summary) - {"absurd_seeds", "phi_relative_change"} == {
            "test_error_mean", "test_error_std", "test_error_ci95", "n_seeds", "offline_s", "train_s", "paired"}
        assert ("phi_relative_change" in summary) == (method in ONLINE_PHASES), method
        assert set(summary["paired"]) == ({"convergence"} if method == "baseline" else
                                          {"convergence", "vs_baseline"} | ({"vs_ml3"} if method == "adalfl" else set()))
        assert summary["n_seeds"] == 1 and summary["test_error_mean"] == metrics["digits_logistic"][method]
        assert summary["train_s"] > 0 and (summary["offline_s"] is None) == (method == "baseline")
    convergence = json.loads((repo / "reports" / "convergence.json").read_text())["digits_logistic"]
    assert convergence["adalfl"]["vs_baseline_test_error"] in ("better", "level", "worse")
    table = (repo / "reports" / "results.md").read_text()
    assert "## Paired comparisons" in table
    assert "## How far the online phase moves phi" in table and "| digits_logistic | adalfl |" in table
    assert "python -m tools.lfl export --pair digits_logistic --method adalfl --seed 0" in table
    assert "| digits | logistic |" in table and "**" in table
    assert (repo / "reports" / "plots" / "digits_logistic_curves.png").stat().st_size > 1000
    assert (repo / "reports" / "plots" / "digits_logistic_adalfl_loss.png").stat().st_size > 1000
    assert (repo / "reports" / "plots" / "digits_logistic_offline_meta_loss.png").stat().st_size > 1000
    assert re.search(r"Generated from commit \w+(\+changes)? with params.yaml sha256:[0-9a-f]{12}\.", table)
    assert "Wall time per seed in seconds" in table
    curves = (repo / "reports" / "curves" / "digits_logistic.csv").read_text().splitlines()
    assert curves[0] == "step," + ",".join(methods) and len(curves) == 4  # header, steps 0, 10, 20
    shown = json.loads(run(repo, "dvc", "plots", "show", "--json"))["data"]["reports/curves/digits_logistic.csv"][0]
    assert {row["field"] for row in shown["content"]["data"]["values"]} == set(methods)  # overlaid
    assert not (repo / "reports/tuning/digits_logistic").exists()  # tuning off: no tune stage ran
    page = (repo / "reports" / "index.html").read_text()
    assert page.count("<img") == 4 and "<table>" in page and "http" not in page.split("<body>")[1]


def test_second_repro_does_nothing(repo):
    assert "up to date" in run(repo, "dvc", "status")
    out = run(repo, "dvc", "repro")
    assert "Running stage" not in out


def test_ml3_and_adalfl_share_one_offline_stage(repo):
    stages = run(repo, "dvc", "stage", "list", "--name-only").split()
    inits = [s for s in stages if s.startswith("init_loss@")]
    assert "init_loss@digits_logistic-smooth_nn" in inits
    assert not any("adalfl" in s or "ml3" in s for s in inits)
    assert len(inits) == 5
    assert not [s for s in stages if s.startswith("tune@")]  # tuning off: the tune matrix is empty


@contextlib.contextmanager
def edited_params(repo, edit):
    """params.yaml with ``edit`` (a function of the parsed file) applied, for the block's duration."""
    params_path = repo / "params.yaml"
    original = params_path.read_text()
    params = yaml.safe_load(original)
    edit(params)
    params_path.write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        yield
    finally:
        params_path.write_text(original)


def test_editing_one_method_block_changes_only_that_methods_stages(repo):
    with edited_params(repo, lambda p: p["methods"]["adalfl"]["online"].update(meta_lr=3.0e-5)):
        status = run(repo, "dvc", "status", "--json")
    changed = set(json.loads(status))
    # check re-validates the edited file (its output stays the same, so it re-runs nothing downstream)
    assert changed == {"check", "train@digits_logistic-adalfl"}, changed


@pytest.mark.parametrize("edit, message", [
    (lambda p: p.update(seed=[0, 1]), "seed: unknown key"),  # read by no stage: only the check stage sees it
    (lambda p: p["run"]["methods"].append("adalfll"), "run.methods[7]: unknown method 'adalfll' (known: baseline"),
])
def test_bad_params_stop_repro_before_any_work(repo, edit, message):
    with edited_params(repo, edit):
        done = subprocess.run(["dvc", "repro"], cwd=repo, env=env(), capture_output=True, text=True)
    assert done.returncode != 0
    assert message in done.stdout + done.stderr, done.stdout + done.stderr
    assert not set(re.findall(r"Running stage '([^']+)'", done.stdout)) - {"check"}


def test_exp_run_with_set_param_reruns_only_that_method(repo):
    out = run(repo, "dvc", "exp", "run", "-S", "methods.meta_lr.online.meta_lr=1e-05", "-S", "methods.adalfl.online.meta_lr=2e-05")
    ran = set(re.findall(r"Running stage '([^']+)'", out))
    assert ran == {"check", "train@digits_logistic-adalfl", "evaluate@digits_logistic", "report"}, ran
    shown = json.loads(run(repo, "dvc", "exp", "show", "--json"))
    text = json.dumps(shown)
    assert "digits_logistic" in text and "2e-05" in text


CHECK_SCRIPT = """<script>
window.addEventListener('load', () => {
  const images = [...document.images];
  const drawn = images.filter(i => i.complete && i.naturalWidth > 0).length;
  const rows = [...document.querySelectorAll('table')].map(t => t.querySelectorAll('tbody tr').length);
  document.title = `images ${drawn}/${images.length} rows ${rows.join(',')}`;
});
</script>"""


class TableRows(HTMLParser):
    """Body rows of each table as written in the page's source (what the browser must also see)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[int] = []
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.rows.append(0)
        self._in_body = self._in_body or tag == "tbody"
        if tag == "tr" and self._in_body:
            self.rows[-1] += 1

    def handle_endtag(self, tag: str) -> None:
        self._in_body = self._in_body and tag != "tbody"


def page_tables(repo) -> list[int]:
    source = TableRows()
    source.feed((repo / "reports" / "index.html").read_text())
    return source.rows


def test_every_table_on_the_page_is_a_table_with_rows(repo):
    """Prose with a '|' in it once became an empty table; every table is one the report meant."""
    # results, wall time, paired comparisons, phi movement, the few-shot family's table
    assert page_tables(repo) == [1, 1, 7, 4, 2]


def find_browser() -> str | None:
    import shutil

    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def test_index_page_renders_table_and_every_image_in_a_real_browser(repo, tmp_path):
    import subprocess

    browser = find_browser()
    if browser is None:
        pytest.skip("no headless browser: install Debian's chromium (`apt-get install chromium`) to run this check")
    page = (repo / "reports" / "index.html").read_text().replace("</body>", CHECK_SCRIPT + "</body>")
    probe = tmp_path / "probe.html"
    probe.write_text(page)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom"]
    dom = subprocess.run([browser, *flags, probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    title = re.search(r"<title>(.*?)</title>", dom)
    assert title is not None, dom[:500]
    source = page_tables(repo)
    # curves, learned loss, offline meta-loss, few-shot adaptation; the browser sees every row the source has
    assert title.group(1) == f"images 4/4 rows {','.join(map(str, source))}", title.group(1)


def stages_importing(repo, relative_file: str) -> set[str]:
    """The resolved stages whose entry module imports ``relative_file`` (at any depth)."""
    from dvc.repo import Repo

    from tools.stage_deps import import_closure

    with Repo(str(repo)) as dvc:
        modules = {stage.addressing: stage.cmd.split()[2] for stage in dvc.index.stages}
    return {name for name, module in modules.items() if relative_file in import_closure(module, repo)}


def test_an_edit_deep_in_the_imports_reruns_exactly_the_stages_that_run_it(repo, monkeypatch):
    """A function body changed three imports below train: once the `code` stage has hashed it, every stage
    that imports it is out of date, no other."""
    path = repo / "pipeline/data/store_format.py"
    original = path.read_text()
    assert "def normalise_images(" in original
    path.write_text(original.replace("def normalise_images(", "def normalise_images(  # edited\n", 1))
    try:
        assert set(json.loads(run(repo, "dvc", "status", "--json"))) == {"code"}
        run(repo, "dvc", "repro", "--single-item", "code")
        changed = set(json.loads(run(repo, "dvc", "status", "--json")))
    finally:
        path.write_text(original)
        run(repo, "dvc", "repro", "--single-item", "code")  # the digests back to the committed code
    monkeypatch.chdir(repo)  # DVC reads params.yaml for the templating from the working directory
    expected = stages_importing(repo, "pipeline/data/store_format.py")
    assert {"train@digits_logistic-baseline", "evaluate@digits_logistic"} <= expected
    assert changed == expected, (sorted(changed - expected), sorted(expected - changed))
    assert set(json.loads(run(repo, "dvc", "status", "--json"))) == set()


def test_a_rerun_with_equal_results_keeps_the_output_hash(repo):
    """Wall times live in reports/timings: re-training a seed bit for bit re-runs only the report."""
    run(repo, "dvc", "repro", "--force", "--single-item", "train@digits_logistic-baseline")
    changed = set(json.loads(run(repo, "dvc", "status", "--json")))
    assert changed == {"report"}, changed
    run(repo, "dvc", "repro")  # leave the repository up to date for the tests after this one


def repro_with(repo, edit, cleanup=()) -> set[str]:
    """The stages `dvc repro` runs after ``edit`` of params.yaml; then params, ``cleanup`` paths and outputs go back."""
    try:
        with edited_params(repo, edit):
            return set(re.findall(r"Running stage '([^']+)'", run(repo, "dvc", "repro")))
    finally:
        for path in cleanup:
            shutil.rmtree(repo / path, ignore_errors=True)
        run(repo, "dvc", "repro")  # back to the committed outputs (DVC's run cache restores them)
        assert "up to date" in run(repo, "dvc", "status")


def test_an_edited_offline_phase_reruns_only_the_stages_that_read_it(repo):
    """Issue 23 (b): a new offline.taylor_cubic re-runs its phase and the training that starts from it, never
    the baseline's or another method's training (train declares no `offline`: its digest carries what it reads)."""
    ran = repro_with(repo, lambda p: p["offline"]["taylor_cubic"].update(meta_lr=2.0e-3))
    assert not {s for s in ran if s.startswith("train@") and s != "train@digits_logistic-taylor_cubic"}, ran
    assert ran == {"check", "data_inputs", "init_loss@digits_logistic-taylor_cubic", "run_inputs",
                   "train@digits_logistic-taylor_cubic", "evaluate@digits_logistic", "report"}


def test_a_new_data_set_reruns_no_stage_of_another(repo):
    """Issue 23 (c): the stages depend on the digest of the data set they read, not on data/prepared."""
    ran = repro_with(repo, lambda p: p["datasets"].append("mnist5k"), cleanup=["data/prepared/mnist5k"])
    assert ran == {"check", "prepare@mnist5k", "data_inputs"}, ran


def test_a_tune_edit_reruns_no_untuned_training(repo):
    """train declares no tune key: a tuned training's digest carries them (tests/test_inputs.py)."""
    ran = repro_with(repo, lambda p: p["tune"].update(seeds=[0, 1], objective_split="valid"))
    assert ran == {"check", "run_inputs"}, ran
