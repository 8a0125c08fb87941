"""Wrong: the 1/(1+ηβ) damping is missing."""
import numpy as np


def _prox(centre, ref, field, beta, eta):
    z = np.log(centre) + eta * beta * np.log(ref) + eta * field
    e = np.exp(z - z.max())
    return e / e.sum()


def update(pi, P, ref, beta, eta):
    half = _prox(pi, ref, P @ pi, beta, eta)
    return _prox(pi, ref, P @ half, beta, eta)
