"""K steps of Adam or RMSProp on the logits: the audit's per-coordinate step-scaling hypothesis.

:func:`optimiser` is one run; :func:`lanes` is many runs at once (every learning rate and every K of a fit,
on every observation) with the same float64 operations in the same order, so that its results are those of
:func:`optimiser` bit for bit. Two facts make it cheap: a run of K steps is the first K steps of a longer
run at the same learning rate (the bias corrections depend on the step index only), so one run to the
largest K serves every K; and the observations and learning rates become rows of one array.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .ident import lognorm

F64 = npt.NDArray[np.float64]


def optimiser(target: F64, lp: F64, lr: float, steps: int, adam: bool) -> F64:
    """``steps`` steps of Adam (β = (0.9, 0.999)) or RMSProp (α = 0.99), eps 1e-8, on logits z = log π_k,
    minimising the cross-entropy to the declared step's distribution (gradient softmax(z) − π*)."""
    z = lp.copy()
    m = np.zeros_like(z)
    v = np.zeros_like(z)
    pt = np.exp(target)
    for k in range(1, steps + 1):
        p = np.exp(lognorm(z))
        g = p - pt
        if adam:
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            z = z - (lr / (1 - 0.9**k)) * m / (np.sqrt(v) / math.sqrt(1 - 0.999**k) + 1e-8)
        else:
            v = 0.99 * v + 0.01 * g * g
            z = z - lr * g / (np.sqrt(v) + 1e-8)
    return lognorm(z)


def _lognorm_rows(z: F64) -> F64:
    """``lognorm`` of every row (last axis), with the same operations: the row sums are the same sequential
    sums, and the logarithm is Python's, as in the one-row form."""
    m = np.max(z, axis=-1, keepdims=True)
    sums = np.sum(np.exp(z - m), axis=-1)
    logs = np.array(list(map(math.log, sums.ravel().tolist()))).reshape(sums.shape)
    out: F64 = z - (m + logs[..., None])
    return out


#: Rows of at most this many entries are padded to a common length: numpy sums a row of up to 7 entries in order
#: (its pairwise summation only splits longer rows), so trailing zeros leave every sum bit for bit the same.
PAD = 7


def _pad(x: F64, n: int) -> F64:
    return x if len(x) == n else np.concatenate([x, np.full(n - len(x), -np.inf)])


def lanes(targets: Sequence[F64], lps: Sequence[F64], lrs: Sequence[float], stops: Sequence[Sequence[int]],
          adam: bool) -> list[dict[int, list[F64]]]:
    """``out[i][K][j] == optimiser(targets[j], lps[j], lrs[i], K, adam)`` for every lane i, every K in
    ``stops[i]`` and every observation j (observations of different sizes are run in groups of one size)."""
    out: list[dict[int, list[F64]]] = [{K: [np.empty(0)] * len(lps) for K in ks} for ks in stops]
    order = sorted(range(len(lrs)), key=lambda i: -max(stops[i], default=0))  # the lanes still running: a prefix
    last = [max(stops[i], default=0) for i in order]
    wanted = [set(stops[i]) for i in order]
    lr_col = np.array([lrs[i] for i in order], dtype=np.float64)[:, None, None]
    by_size: dict[int, list[int]] = {}
    for j, lp in enumerate(lps):  # sizes up to 7 share one group, padded with −∞ (exp: an exact 0)
        by_size.setdefault(len(lp) if len(lp) > PAD else 0, []).append(j)
    for idx in by_size.values():
        n = max(len(lps[j]) for j in idx)
        z = np.repeat(np.stack([_pad(lps[j], n) for j in idx])[None], len(order), axis=0)
        m = np.zeros_like(z)
        v = np.zeros_like(z)
        pt = np.exp(np.stack([_pad(targets[j], n) for j in idx]))
        active = len(order)
        for k in range(last[0] + 1 if last else 0):
            if k > 0:
                while active and last[active - 1] < k:
                    active -= 1
                za, lr = z[:active], lr_col[:active]
                g = np.exp(_lognorm_rows(za)) - pt
                if adam:
                    m[:active] = 0.9 * m[:active] + 0.1 * g
                    v[:active] = 0.999 * v[:active] + 0.001 * g * g
                    z[:active] = za - (lr / (1 - 0.9**k)) * m[:active] / (
                        np.sqrt(v[:active]) / math.sqrt(1 - 0.999**k) + 1e-8)
                else:
                    v[:active] = 0.99 * v[:active] + 0.01 * g * g
                    z[:active] = za - lr * g / (np.sqrt(v[:active]) + 1e-8)
            for pos in range(active):
                if k in wanted[pos]:
                    rows = _lognorm_rows(z[pos])
                    for r, j in enumerate(idx):
                        out[order[pos]][k][j] = rows[r, :len(lps[j])]
    return out
