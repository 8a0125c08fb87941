"""Corpus: a Nash-MD learner with its own learning-rate schedule η_t = 2/(β(t+2)), driven by t.

Expected: `--declared nash-md` (no --eta: the schedule) CONSISTENT. `update_slip` computes the
schedule as 1/(β(t+2)) (a factor-2 slip): FLAGGED, diagnosis "η_t = 1/2 × 2/(β(t+2))".
`update_state` counts its own steps in `state` instead of reading t: CONSISTENT.
"""
import numpy as np


class NashMDLearner:
    def __init__(self, ref, beta, scale=2.0):
        self.log_ref, self.beta, self.scale = np.log(ref), beta, scale

    def lr(self, t):
        return self.scale / (self.beta * (t + 2))

    def step(self, pi, P, t):
        eta = self.lr(t)
        mu = (1 - eta * self.beta) * np.log(pi) + eta * self.beta * self.log_ref
        mu = np.exp(mu - mu.max())
        mu /= mu.sum()
        z = np.log(mu) + eta * (P @ mu)
        w = np.exp(z - z.max())
        return w / w.sum()


def update(pi, P, ref, beta, eta, t=0):
    return NashMDLearner(ref, beta).step(pi, P, t)


def update_slip(pi, P, ref, beta, eta, t=0):
    return NashMDLearner(ref, beta, scale=1.0).step(pi, P, t)


def update_state(pi, P, ref, beta, eta, state=None):
    t = 0 if state is None else state
    return NashMDLearner(ref, beta).step(pi, P, t), t + 1
