"""Wrong: uses Pᵀ (the opponent's preference) instead of P."""
import numpy as np


def _prox(centre, ref, field, beta, eta):
    z = (np.log(centre) + eta * beta * np.log(ref) + eta * field) / (1 + eta * beta)
    e = np.exp(z - z.max())
    return e / e.sum()


def update(pi, P, ref, beta, eta):
    half = _prox(pi, ref, P.T @ pi, beta, eta)
    return _prox(pi, ref, P.T @ half, beta, eta)
