"""A helper module imported by good_sibling.py (a solver file that imports a module beside it)."""
import numpy as np


def prox(centre, ref, field, beta, eta):
    z = (np.log(centre) + eta * beta * np.log(ref) + eta * field) / (1 + eta * beta)
    e = np.exp(z - z.max())
    return e / e.sum()
