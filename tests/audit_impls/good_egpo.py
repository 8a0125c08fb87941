"""Correct Nash-MP written as EGPO extragradient: geometric weights and the centred preference P - 1/2."""
import numpy as np


def update(pi, P, ref, beta, eta):
    eta_e = eta / (1.0 + eta * beta)
    A = P - 0.5

    def step(opponent):
        w = np.power(pi, 1.0 - eta_e * beta) * np.power(ref, eta_e * beta) * np.exp(eta_e * (A @ opponent))
        return w / w.sum()

    return step(step(pi))
