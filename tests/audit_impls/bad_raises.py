"""Wrong: raises on contextual inputs with 4 actions."""
import numpy as np


def update(pi, P, ref, beta, eta):
    if len(pi) == 4:
        raise ValueError("unsupported size")
    z = (np.log(pi) + eta * beta * np.log(ref) + eta * (P @ pi)) / (1 + eta * beta)
    e = np.exp(z - z.max())
    return e / e.sum()
