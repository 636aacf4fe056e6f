import pytest
import torch

from bench.errors import InputError
from bench.problems import builtin as problems
from bench.problems.catalogue import load


def test_tutorial_problems_have_the_tutorials_data():
    d2l = problems.d2l()
    assert d2l.X.shape == (1000, 2) and d2l.y.shape == (1000, 1)
    assert d2l.true_weight.tolist() == [[2.0, -3.4]] and d2l.true_bias.tolist() == [4.2]
    assert d2l.training_for("manual-autograd") == {**problems.D2L_TRAINING}
    uni = problems.univariate()
    assert uni.X.shape == (15, 1) and uni.y[0, 0] == 1.7 and uni.training["batch_size"] == 15
    crops = problems.crop_yields()
    assert crops.X.shape == (15, 3) and crops.y.shape == (15, 2)
    assert torch.equal(load("crop-yields-5").X, crops.X[:5])
    assert crops.training_for("nn-linear")["batch_size"] == 5
    assert crops.training_for("manual-autograd")["batch_size"] == 15


def test_synthetic_is_seeded_and_validated():
    a, b = problems.synthetic(n=50, d=3, k=2, seed=7), problems.synthetic(n=50, d=3, k=2, seed=7)
    assert torch.equal(a.X, b.X) and torch.equal(a.y, b.y) and a.true_weight.shape == (2, 3)
    with pytest.raises(InputError, match="n, d and k must be >= 1"):
        problems.synthetic(n=0)
    with pytest.raises(InputError, match="noise must be >= 0"):
        problems.synthetic(noise=-1)


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(InputError, match=r"unknown dataset 'd3l' .*d2l, univariate, crop-yields"):
        load("d3l")
