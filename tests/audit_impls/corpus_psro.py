"""Corpus: a PSRO-style meta-solver loop with optimistic MWU (it keeps the last payoff vector as state).

Expected: `omwu` declared `--declared omwu --eta 1/10` CONSISTENT; `omwu_stale` (the memory is updated
before it is used, so the optimistic correction cancels) FLAGGED with the diagnosis "mwu with η = 1/10";
`omwu_zero_memory` (the memory starts at zero) CONSISTENT as omwu;
`omwu` declared as `mwu` FLAGGED (no named cause: the steps are not MWU's). `run_trace` writes the trace
of a run as `json.dump` writes it (JSON numbers): declared omwu it is CONSISTENT.
"""
import json

import numpy as np


class MetaSolver:
    def __init__(self, payoffs, lr):
        self.payoffs = payoffs
        self.lr = lr
        self.last = None

    def step(self, weights):
        value = self.payoffs @ weights
        last = value if self.last is None else self.last
        logits = np.log(weights) + self.lr * (2.0 * value - last)
        self.last = value
        w = np.exp(logits - logits.max())
        return w / w.sum()


def omwu(pi, P, ref, beta, eta, state=None):
    solver = state if state is not None else MetaSolver(P, eta)
    return solver.step(pi), solver


def omwu_zero_memory(pi, P, ref, beta, eta, state=None):
    """The other convention: the memory starts at zero, so the first step is MWU at 2η (CONSISTENT as omwu)."""
    solver = state if state is not None else MetaSolver(P, eta)
    if state is None:
        solver.last = np.zeros(len(pi))
    return solver.step(pi), solver


def omwu_stale(pi, P, ref, beta, eta, state=None):
    solver = state if state is not None else MetaSolver(P, eta)
    solver.last = P @ pi  # a refactor moved the bookkeeping up: the correction is now zero
    return solver.step(pi), solver


def run_trace(P, start, eta, steps, stale=False):
    solver = MetaSolver(np.asarray(P, dtype=float), eta)
    pis = [np.asarray(start, dtype=float)]
    for _ in range(steps):
        if stale:
            solver.last = solver.payoffs @ pis[-1]
        pis.append(solver.step(pis[-1]))
    return json.loads(json.dumps([p.tolist() for p in pis]))
