"""Correct Nash-MP, logits and a hand-written softmax."""
import numpy as np


def _softmax(z):
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


def update(pi, P, ref, beta, eta):
    centre = (np.log(pi) + eta * beta * np.log(ref)) / (1 + eta * beta)
    half = _softmax(centre + eta * (P @ pi) / (1 + eta * beta))
    return _softmax(centre + eta * (P @ half) / (1 + eta * beta))
