"""Wrong: the full step is anchored at π_ref instead of π_k (invisible while π_k = π_ref)."""
import numpy as np


def _prox(centre, ref, field, beta, eta):
    z = (np.log(centre) + eta * beta * np.log(ref) + eta * field) / (1 + eta * beta)
    e = np.exp(z - z.max())
    return e / e.sum()


def update(pi, P, ref, beta, eta):
    half = _prox(pi, ref, P @ pi, beta, eta)
    return _prox(ref, ref, P @ half, beta, eta)
