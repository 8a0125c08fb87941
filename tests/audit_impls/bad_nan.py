"""Wrong: returns NaN once a probability is small (log of a clipped zero)."""
import numpy as np


def update(pi, P, ref, beta, eta):
    z = (np.log(pi) + eta * beta * np.log(ref) + eta * (P @ pi)) / (1 + eta * beta)
    out = np.exp(z) / np.exp(z).sum()
    out[out < 0.05] = np.nan
    return out
