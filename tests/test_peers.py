"""The peers a comparison sets beside ours (impls/other_libraries.py): judged like any implementation, opt-in,
and skipped with the reason where their library is missing."""

import importlib.util

import numpy as np
import pandas as pd
import pytest
import torch

import impls
from bench.cli import main
from bench.harness.cases import default_specs
from bench.judge.checks import judge
from bench.judge.reference import reference_solution
from bench.problems import load
from impls import other_libraries as peer_module

QUICK = ["--rounds", "1", "--min-time", "0", "--warmup", "0", "--no-plots", "--no-roofline", "--device", "cpu"]
CPU_PEERS = ["sklearnex", "statsmodels", "scipy-lstsq", "scipy-lstsq:driver=gelsy", "scipy-lstsq:driver=gelss",
             "numpy-lstsq"]  # fmt: skip


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def test_peers_are_opt_in_not_in_a_default_run():
    assert set(impls.peers()) == {"sklearnex", "statsmodels", "scipy-lstsq", "numpy-lstsq", "cuml"}
    assert not set(impls.peers()) & {spec.name for spec in default_specs()}


@pytest.mark.parametrize("spec", CPU_PEERS)
def test_each_installed_peer_recovers_d2l_in_float64_judged_like_any_implementation(spec):
    name, _, option = spec.partition(":")
    impl = impls.create(name, **dict([option.split("=")]) if option else {})
    reason = impl.unsupported_reason("cpu", torch.float64)
    if reason is not None:
        pytest.skip(reason)
    p = load("d2l")
    verdict = judge(impl.fit(p.X, p.y), p, reference_solution(p.X, p.y), torch.float64, True, impl.objective())
    assert verdict.status == "ok", verdict.reason
    assert verdict.digits_ref >= 12  # κ ≈ 1: any backward-stable float64 solver keeps ~15


@pytest.mark.skipif(not installed("statsmodels"), reason="statsmodels is not installed")
def test_statsmodels_standard_errors_are_the_judges():
    import statsmodels.api as sm

    p = load("strd-longley")
    ref = reference_solution(p.X, p.y)
    result = sm.OLS(p.y.numpy()[:, 0], sm.add_constant(p.X.numpy())).fit()
    np.testing.assert_allclose(result.bse[1:], ref.se_weight[0], rtol=1e-6)  # Longley, κ([X 1]) ≈ 5e9
    np.testing.assert_allclose(result.bse[0], ref.se_bias[0], rtol=1e-6)


def test_a_missing_library_is_a_skip_with_the_reason_and_cuml_needs_cuda(tmp_path, monkeypatch):
    monkeypatch.setattr(peer_module, "installed", lambda module: module not in ("sklearnex", "statsmodels"))
    argv = ["run", "--impl", "sklearnex", "--impl", "statsmodels", "--impl", "normal-equation", "--dtype", "float64",
            "--out", str(tmp_path / "o"), *QUICK]  # fmt: skip
    assert main(argv) == 0
    rows = pd.read_csv(tmp_path / "o" / "results.csv").set_index("impl")
    assert rows.loc["sklearnex", "status"] == "skipped"
    assert rows.loc["sklearnex", "reason"].startswith("sklearnex is not installed (pip install scikit-learn-intelex")
    assert rows.loc["statsmodels", "status"] == "skipped" and rows.loc["normal-equation", "status"] == "ok"
    assert impls.create("cuml").unsupported_reason("cpu", torch.float64) == "cuml runs on cuda only, not cpu"


def test_scipy_rejects_an_unknown_driver():
    with pytest.raises(impls.OptionError, match="driver must be one of gelsd, gelsy, gelss"):
        impls.create("scipy-lstsq", driver="gelsx")
