"""Wrong: the mixture weights of the centre and π_ref are swapped."""
import numpy as np


def _prox(centre, ref, field, beta, eta):
    z = (eta * beta * np.log(centre) + np.log(ref) + eta * field) / (1 + eta * beta)
    e = np.exp(z - z.max())
    return e / e.sum()


def update(pi, P, ref, beta, eta):
    half = _prox(pi, ref, P @ pi, beta, eta)
    return _prox(pi, ref, P @ half, beta, eta)
