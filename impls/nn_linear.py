"""d2l "concise" / "Zero to GANs": `nn.Linear`, `nn.MSELoss`, any `torch.optim` optimizer."""

from __future__ import annotations

import inspect
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from impls.base import IterativeImplementation
from impls.batching import ShuffleBuffer
from impls.compiling import compile_errors_in_one_line
from impls.declarations import NN_LINEAR
from impls.fit import LinearFit
from impls.init import initial_parameters
from impls.options import LOADERS, NNLinearOptions, OptionError
from impls.sharded import Collectives


def optimizer_classes() -> dict[str, type[torch.optim.Optimizer]]:
    """Every optimizer `torch.optim` exports, by lower-case name (sgd, adam, adamw, lbfgs, ...)."""
    found = {}
    for attr in dir(torch.optim):
        obj = getattr(torch.optim, attr)
        if isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer) and obj is not torch.optim.Optimizer:
            found[attr.lower()] = obj
    found.pop("sparseadam", None)  # needs sparse gradients, which nn.Linear does not produce
    return found


def make_optimizer(name: str, params, lr: float, args: dict) -> torch.optim.Optimizer:
    classes = optimizer_classes()
    cls = classes.get(name.lower())
    if cls is None:
        raise OptionError(f"nn-linear: unknown optimizer {name!r} (available: {', '.join(sorted(classes))})")
    try:
        return cls(params, lr=lr, **args)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"nn-linear: optimizer {name} rejects its arguments {args}: {exc}") from None


def graph_safe_args(name: str, args: dict) -> dict:
    """Optimizers that keep their step count on the host (Adam and kin) must keep it on the device
    to be captured: `capturable=True` where the optimizer has that option and it is not set."""
    parameters = inspect.signature(optimizer_classes()[name.lower()].__init__).parameters
    return {"capturable": True, **args} if "capturable" in parameters else args


def training_step(net: nn.Module, loss_fn: nn.Module, optimizer: torch.optim.Optimizer):
    """One minibatch step as the tutorial writes it; LBFGS, which re-evaluates the loss within a
    step, gets a closure."""
    if isinstance(optimizer, torch.optim.LBFGS):

        def step_with_closure(X_batch: torch.Tensor, y_batch: torch.Tensor) -> None:
            def closure() -> torch.Tensor:
                optimizer.zero_grad()
                loss = loss_fn(net(X_batch), y_batch)
                loss.backward()
                return loss

            optimizer.step(closure)

        return step_with_closure

    def step(X_batch: torch.Tensor, y_batch: torch.Tensor) -> None:
        optimizer.zero_grad()
        loss_fn(net(X_batch), y_batch).backward()
        optimizer.step()

    return step


class NNLinear(IterativeImplementation, declaration=NN_LINEAR):
    """The concise tutorial loop: `TensorDataset` + `DataLoader(shuffle=True)`, `zero_grad`,
    `backward`, `step` (see `training_step`).

    What a step costs without the DataLoader (`loader=tensor`) is eager PyTorch's floor for it:
    the module's forward, the loss, `backward`, `step` and `zero_grad`, each a few dispatches.
    """

    grid = {"optimizer": ("sgd", "adam", "lbfgs"), "loader": LOADERS}
    default_variants = ({"loader": "tensor"},)  # beside the tutorial's DataLoader: what it costs
    tutorial = "nn-linear"  # with loader=dataloader and no graph it is the tutorial loop itself
    speed_options = ("loader", "graph", "compile")
    data_parallel = "sampler"

    def __init__(self, **options) -> None:
        super().__init__(**options)
        # Fail on an unknown optimizer or argument now, not after a run has started.
        make_optimizer(
            self.options.optimizer, [torch.zeros(1, requires_grad=True)], self.options.lr, self.options.optimizer_args
        )

    def single_process_reason(self) -> str | None:
        if self.options.optimizer == "lbfgs":
            return "nn-linear:optimizer=lbfgs re-evaluates the loss up to 20 times within a step: no DDP form"
        return super().single_process_reason()

    def start_net(self, X: torch.Tensor, y: torch.Tensor) -> tuple[nn.Linear, torch.Generator]:
        """The seeded `nn.Linear` (one seed, one start, on every device and dtype) and the generator
        the epochs' shuffles then draw from."""
        o: NNLinearOptions = self.options
        generator = torch.Generator().manual_seed(o.seed)
        with torch.random.fork_rng(devices=[]):  # nn.Linear's own init draws from the global RNG
            torch.manual_seed(o.seed)
            net = nn.Linear(X.shape[1], y.shape[1], bias=o.fit_intercept, dtype=torch.float64)
        net = net.to(device=X.device, dtype=X.dtype)
        if o.init != "torch":
            weight, bias = initial_parameters(o, X.shape[1], y.shape[1], X.dtype, X.device, generator)
            with torch.no_grad():
                net.weight.copy_(weight)
                if net.bias is not None:
                    net.bias.copy_(bias)
        return net, generator

    def fit_sharded(self, X: torch.Tensor, y: torch.Tensor, comm: Collectives) -> LinearFit:
        """DistributedDataParallel with a DistributedSampler, as DDP users write it: `batch_size` rows
        per rank, gradients averaged by one timed all-reduce per step (a DDP comm hook). The global
        batch i is the sampler's permutation, rows i·W·B to (i+1)·W·B − 1: the same run as one
        process at batch W·B over `DistributedSampler(num_replicas=1)` when W·B divides n."""
        o: NNLinearOptions = self.options
        reason = self.single_process_reason()
        if reason is not None or o.graph:
            raise OptionError(reason or "nn-linear:graph=true runs in one process only (DDP syncs in backward)")
        net, _ = self.start_net(X, y)
        dataset = TensorDataset(X, y)
        sampler = DistributedSampler(dataset, num_replicas=comm.world_size, rank=comm.rank, shuffle=True, seed=o.seed)
        loader = DataLoader(dataset, batch_size=o.batch_size, sampler=sampler)
        model = net if comm.world_size == 1 else ddp_model(net, comm)
        loss_fn = nn.MSELoss()
        step = training_step(model, loss_fn, make_optimizer(o.optimizer, model.parameters(), o.lr, o.optimizer_args))
        losses = []
        for epoch in range(o.epochs):
            sampler.set_epoch(epoch)
            for X_batch, y_batch in loader:
                step(X_batch, y_batch)
            with torch.no_grad():
                losses.append(loss_fn(net(X), y))
        bias = net.bias.detach().clone() if net.bias is not None else X.new_zeros(y.shape[1])
        return LinearFit(net.weight.detach().clone(), bias, torch.stack(losses).tolist())

    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        """`self.observer(epoch, weight, bias)`, when set, observes each epoch instead of the fit recording losses."""
        o: NNLinearOptions = self.options
        start, generator = self.start_net(X, y)
        if o.graph or o.compile:  # one capture or compile per inputs, kept: reset module and optimizer
            net, optimizer, run_epoch, data = self.replay.get(X, y, lambda: self._loop(X, y, start, generator))
            with torch.no_grad():
                for kept, fresh in zip(net.parameters(), start.parameters(), strict=True):
                    kept.copy_(fresh)
            for state in optimizer.state.values():  # in place: the graph reads these very tensors
                for value in state.values():
                    if isinstance(value, torch.Tensor):
                        value.zero_()
        else:
            net, optimizer, run_epoch, data = self._loop(X, y, start, generator)
        loss_fn = nn.MSELoss()
        losses = []
        zero = torch.zeros(y.shape[1], dtype=X.dtype, device=X.device)  # the bias without an intercept
        for epoch in range(1, o.epochs + 1):
            if o.loader == "tensor":
                data.refill(generator)
            run_epoch()
            if self.observer is not None:
                self.observer(epoch, net.weight.detach(), net.bias.detach() if net.bias is not None else zero)
                continue
            with torch.no_grad():
                losses.append(loss_fn(net(X), y))
        weight = net.weight.detach().clone()
        bias = net.bias.detach().clone() if net.bias is not None else zero
        fit = LinearFit(weight, bias, torch.stack(losses).tolist() if losses else [])
        if o.graph:
            fit.work["capture_s"] = getattr(run_epoch, "capture_s", float("nan"))
        if o.compile:
            fit.work["compile_s"] = run_epoch.compile_s
        if isinstance(optimizer, torch.optim.LBFGS):  # up to max_iter loss evaluations a step, not one
            evaluations = optimizer.state[optimizer.param_groups[0]["params"][0]].get("func_evals", 0)
            fit.work["evaluations_per_row"] = evaluations * min(o.batch_size, X.shape[0]) / X.shape[0]
        return fit

    def _loop(self, X: torch.Tensor, y: torch.Tensor, net: nn.Module, generator: torch.Generator):
        """(net, optimizer, what runs one epoch, the shuffle buffer or None for the DataLoader)."""
        o: NNLinearOptions = self.options
        args = graph_safe_args(o.optimizer, o.optimizer_args) if o.graph else o.optimizer_args
        optimizer = make_optimizer(o.optimizer, net.parameters(), o.lr, args)
        forward = torch.compile(net, dynamic=False) if o.compile else net  # as users compile a model
        step = training_step(forward, nn.MSELoss(), optimizer)
        if o.loader == "dataloader":
            loader = DataLoader(TensorDataset(X, y), batch_size=o.batch_size, shuffle=True, generator=generator)
            data = None
        else:
            data = ShuffleBuffer(X, y, o.batch_size, ones_column=False)
            loader = data.batches

        def epoch_steps() -> None:
            for X_batch, y_batch in loader:
                step(X_batch, y_batch)

        if not o.compile:
            return net, optimizer, self.epoch_runner(epoch_steps, X), data
        epoch_steps.compile_s = _compile_on(forward, net, X, y, o.batch_size)
        return net, optimizer, epoch_steps, data


def _compile_on(forward: nn.Module, net: nn.Module, X: torch.Tensor, y: torch.Tensor, batch: int) -> float:
    """Compile the forward and its backward on each batch shape an epoch has (a shorter last one
    too), before any timed epoch; the gradients it leaves are cleared. Returns the seconds it took."""
    started = time.perf_counter()
    with compile_errors_in_one_line():
        for rows in dict.fromkeys((min(batch, len(X)), len(X) % batch or min(batch, len(X)))):
            nn.functional.mse_loss(forward(X[:rows]), y[:rows]).backward()
    for parameter in net.parameters():
        parameter.grad = None
    return time.perf_counter() - started


def ddp_model(net: nn.Module, comm: Collectives) -> nn.Module:
    """`net` under DistributedDataParallel, its gradient all-reduce routed through `comm` so the
    time inside it is counted (DDP's default hook, made synchronous: mean of the ranks' buckets)."""
    from torch.nn.parallel import DistributedDataParallel

    device = next(net.parameters()).device
    model = DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)

    def timed_all_reduce(_state, bucket):  # no annotations: DDP compares them as objects, these are strings
        buffer = bucket.buffer().div_(comm.world_size)
        comm.all_reduce_sum(buffer)
        future: torch.futures.Future[torch.Tensor] = torch.futures.Future()
        future.set_result(buffer)
        return future

    model.register_comm_hook(None, timed_all_reduce)
    return model
