"""Option layering: problem settings < run-wide flags < the spec's options; nothing dropped silently."""

from dataclasses import replace

import pytest

from bench.harness.cases import ImplSpec
from bench.harness.configuration import layered_options
from bench.harness.threads import limited_threads
from bench.problems.builtin import d2l, synthetic_size
from impls import OptionError


def test_later_layers_win_in_the_documented_order():
    problem = synthetic_size("medium")  # tutorial settings: lr 0.1, batch n/10, nn-linear loader=tensor
    options = layered_options(problem, ImplSpec.parse("nn-linear:lr=0.5"), {"lr": 0.2, "epochs": 7}, True)
    assert options["loader"] == "tensor"  # layer 1, per implementation
    assert options["epochs"] == 7  # layer 2 over layer 1's 30
    assert options["lr"] == 0.5  # layer 3 over layers 1 and 2
    assert options["fit_intercept"] is True


def test_closed_forms_take_no_training_settings_by_rule():
    options = layered_options(d2l(), ImplSpec("normal-equation"), {"lr": 0.2}, False)
    assert options == {"fit_intercept": False}


def test_a_run_wide_optimizer_reaches_only_implementations_that_take_one():
    assert "optimizer" not in layered_options(d2l(), ImplSpec("manual-gradient"), {"optimizer": "adam"}, True)
    assert layered_options(d2l(), ImplSpec("nn-linear"), {"optimizer": "adam"}, True)["optimizer"] == "adam"


def test_an_unknown_key_from_any_layer_is_an_error_naming_the_layer():
    problem = replace(d2l(), training_by_impl={"manual-gradient": {"loader": "tensor"}})
    with pytest.raises(OptionError, match="manual-gradient has no option loader, set by the d2l problem's tutorial"):
        layered_options(problem, ImplSpec("manual-gradient"), {}, True)
    with pytest.raises(OptionError, match="no option momentum, set by the run-wide training flags"):
        layered_options(d2l(), ImplSpec("manual-gradient"), {"momentum": 0.9}, True)


def test_thread_limits_reach_torch_and_the_blas_pools_and_are_restored():
    import torch
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads()
    with limited_threads(1):
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")
    assert torch.get_num_threads() == before
