"""Wrong for Nash-MP: this is one MMD step (no extrapolation)."""
import numpy as np


def update(pi, P, ref, beta, eta):
    z = (np.log(pi) + eta * beta * np.log(ref) + eta * (P @ pi)) / (1 + eta * beta)
    e = np.exp(z - z.max())
    return e / e.sum()
