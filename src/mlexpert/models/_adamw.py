"""AdamW with a learning-rate schedule, on torch's functional update.

Constructing ``torch.optim.AdamW`` (any ``torch.optim.Optimizer``) imports ``torch._dynamo``
and with it sympy, ``torch.distributed`` and ``torch.onnx``: 822 modules and +66 MB of
resident memory in every fit that trains a network (torch 2.13), for a compiler the MLP
never uses. The functional ``torch.optim.adamw.adamw`` applies the same update without
that import; this class only keeps its state and the per-step learning rate, and gives
the same weights as ``AdamW`` with ``LambdaLR`` (see ``tests/test_models.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


class AdamW:
    """``groups``: (parameters, weight decay) pairs; step ``i`` (from 0) uses the learning
    rate ``lr * schedule(i)``, as ``LambdaLR`` stepped after each optimiser step does."""

    def __init__(self, torch, groups: Iterable[tuple[list, float]], lr: float,
                 schedule: Callable[[int], float], betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        from torch.optim.adamw import adamw

        self._torch, self._update = torch, adamw
        self.groups = [(list(params), float(decay)) for params, decay in groups]
        self.lr, self.schedule, self.betas, self.eps = lr, schedule, betas, eps
        self.steps = 0
        self._state: dict[int, tuple] = {}  # id(param) -> (exp_avg, exp_avg_sq, step)

    def zero_grad(self) -> None:
        for params, _ in self.groups:
            for p in params:
                p.grad = None

    def step(self) -> None:
        torch = self._torch
        lr = self.lr * self.schedule(self.steps)
        with torch.no_grad():
            for params, decay in self.groups:
                live = [p for p in params if p.grad is not None]
                if not live:
                    continue
                states = [self._state_of(p) for p in live]
                self._update(live, [p.grad for p in live], [s[0] for s in states],
                             [s[1] for s in states], [], [s[2] for s in states],
                             foreach=False, amsgrad=False, beta1=self.betas[0],
                             beta2=self.betas[1], lr=lr, weight_decay=decay, eps=self.eps,
                             maximize=False)
        self.steps += 1

    def _state_of(self, p) -> tuple:
        state = self._state.get(id(p))
        if state is None:
            torch = self._torch
            state = (torch.zeros_like(p, memory_format=torch.preserve_format),
                     torch.zeros_like(p, memory_format=torch.preserve_format),
                     torch.tensor(0.0, dtype=torch.float64 if torch.get_default_dtype() == torch.float64
                                  else torch.float32))
            self._state[id(p)] = state
        return state
