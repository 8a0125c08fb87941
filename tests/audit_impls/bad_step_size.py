"""Wrong: the step size is silently halved (Nash-MP with η/2)."""
import numpy as np


def _prox(centre, ref, field, beta, eta):
    z = (np.log(centre) + eta * beta * np.log(ref) + eta * field) / (1 + eta * beta)
    e = np.exp(z - z.max())
    return e / e.sum()


def update(pi, P, ref, beta, eta):
    eta = eta / 2
    half = _prox(pi, ref, P @ pi, beta, eta)
    return _prox(pi, ref, P @ half, beta, eta)
