"""Wrong: the half step is not normalised before it is used as the opponent."""
import numpy as np


def update(pi, P, ref, beta, eta):
    c = 1 / (1 + eta * beta)
    half = np.exp(c * (np.log(pi) + eta * beta * np.log(ref) + eta * (P @ pi)))  # no normalisation
    z = c * (np.log(pi) + eta * beta * np.log(ref) + eta * (P @ half))
    e = np.exp(z - z.max())
    return e / e.sum()
