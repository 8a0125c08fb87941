"""Corpus: a normal-form learner class in the style of the MMD authors' code, wrapped by an adapter.

The learner keeps its own policy and magnet and exposes update(payoffs); the magnetic step is
    π ← [π · ρ^(lr·temp) · exp(lr·payoffs)]^(1/(1 + lr·temp)), normalised,
which is MMD with η = lr and β = temp. Expected: `--declared mmd` CONSISTENT (any β, any step form);
`MagnetUniform` (the magnet left at its uniform default, as in a dilated tree-form port that never
sets it) FLAGGED with the diagnosis "π_ref ignored (uniform magnet)".
"""
import numpy as np


class MagneticLearner:
    def __init__(self, n_actions, lr, temp, magnet=None):
        self.lr, self.temp = lr, temp
        self.magnet = np.full(n_actions, 1.0 / n_actions) if magnet is None else np.asarray(magnet, float)
        self.policy = np.full(n_actions, 1.0 / n_actions)

    def update(self, payoffs):
        logits = (np.log(self.policy) + self.lr * self.temp * np.log(self.magnet) + self.lr * payoffs)
        logits = logits / (1.0 + self.lr * self.temp)
        logits -= logits.max()
        w = np.exp(logits)
        self.policy = w / w.sum()
        return self.policy


def update(pi, P, ref, beta, eta):
    learner = MagneticLearner(len(pi), lr=eta, temp=beta, magnet=ref)
    learner.policy = pi
    return learner.update(P @ pi)


def magnet_uniform(pi, P, ref, beta, eta):
    learner = MagneticLearner(len(pi), lr=eta, temp=beta)  # the magnet is never set to ref
    learner.policy = pi
    return learner.update(P @ pi)
