"""Corpus: SPPO's step as its square loss is minimised (targets η(P(y ≻ π_t) − ½), log Z ≈ η/2).

The loss Σ_y π_t(y)(log π(y)/π_t(y) − η(P(y ≻ π_t) − ½))² over distributions π is minimised here in
closed form through its Lagrange condition, d + μ·e^d = a, with scipy's Lambert W and a bracketing
root finder on μ (a different algorithm from the audit's nested Newton steps).

Expected: `update` declared `--declared sppo --eta 1/100` CONSISTENT; declared `--declared mwu --eta 1/100`
FLAGGED with the diagnosis "sppo with η = 1/100" (never float32: the deviation, about 1e-9, is a
departure of the rule, and the outputs are float64 values).
"""
import numpy as np
from scipy.optimize import brentq
from scipy.special import lambertw


def update(pi, P, ref, beta, eta):
    a = eta * (P @ pi - 0.5)

    def d_of(mu):
        return a - np.real(lambertw(mu * np.exp(a)))

    def total(mu):
        return float(pi @ np.exp(d_of(mu))) - 1.0

    mu = brentq(total, -0.5, 0.5, xtol=1e-300, rtol=1e-15, maxiter=500)
    q = pi * np.exp(d_of(mu))
    return q / q.sum()
