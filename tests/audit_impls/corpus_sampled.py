"""Corpus: MMD that estimates Pπ from sampled comparisons (it receives a sampling oracle, not P).

Expected with `--oracle sampled --samples R`: `update` (opponents drawn from π) CONSISTENT;
`update_uniform_opponent` (opponents drawn uniformly) FLAGGED. In the exact mode, `update` fails
the determinism check.
"""
import numpy as np

M = 256  # comparisons per action


def _field(oracle, pi, opponents):
    n = len(pi)
    ys = np.repeat(np.arange(n), M)
    return oracle.compare_many(ys, opponents).reshape(n, M).mean(axis=1)


def _mmd(pi, field, ref, beta, eta):
    z = (np.log(pi) + eta * beta * np.log(ref) + eta * field) / (1 + eta * beta)
    w = np.exp(z - z.max())
    return w / w.sum()


def update(pi, oracle, ref, beta, eta):
    opponents = np.random.choice(len(pi), size=len(pi) * M, p=pi)
    return _mmd(pi, _field(oracle, pi, opponents), ref, beta, eta)


def update_uniform_opponent(pi, oracle, ref, beta, eta):
    opponents = np.random.randint(len(pi), size=len(pi) * M)
    return _mmd(pi, _field(oracle, pi, opponents), ref, beta, eta)
