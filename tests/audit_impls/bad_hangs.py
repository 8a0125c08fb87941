"""Wrong: never returns on some inputs."""
import numpy as np


def update(pi, P, ref, beta, eta):
    while pi.max() > 0.9:
        pass
    z = (np.log(pi) + eta * beta * np.log(ref) + eta * (P @ pi)) / (1 + eta * beta)
    e = np.exp(z - z.max())
    return e / e.sum()
