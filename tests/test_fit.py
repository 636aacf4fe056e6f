import pytest
import torch

from impls import LinearFit


def test_predict_uses_nn_linear_convention():
    fit = LinearFit(torch.tensor([[1.0, 2.0], [0.0, -1.0]]), torch.tensor([0.5, 1.0]))
    assert fit.predict(torch.tensor([[1.0, 1.0]])).tolist() == [[3.5, 0.0]]


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="weight must be"):
        LinearFit(torch.zeros(3), torch.zeros(1))
    with pytest.raises(ValueError, match="bias must be"):
        LinearFit(torch.zeros(2, 3), torch.zeros(3))
    with pytest.raises(ValueError, match=r"expects X of shape \(n, 3\)"):
        LinearFit(torch.zeros(2, 3), torch.zeros(2)).predict(torch.zeros(4, 2))


def test_save_load_round_trip_is_the_tutorial_format(tmp_path):
    fit = LinearFit(torch.randn(2, 3, dtype=torch.float64), torch.randn(2, dtype=torch.float64))
    fit.save(tmp_path / "m.pt")
    state = torch.load(tmp_path / "m.pt", weights_only=True)
    assert set(state) == {"weight", "bias"}
    loaded = LinearFit.load(tmp_path / "m.pt")
    assert torch.equal(loaded.weight, fit.weight) and torch.equal(loaded.bias, fit.bias)


def test_load_refuses_other_files(tmp_path):
    torch.save({"w": torch.zeros(1)}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="not a saved LinearFit"):
        LinearFit.load(tmp_path / "x.pt")
