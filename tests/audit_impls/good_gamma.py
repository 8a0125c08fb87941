"""Correct Nash-MP in the secondary-source normalisation: argmin (1/β)P(π_k ≻ π) + KL(π‖ref) + (1/γ)KL(π‖π_k)."""
import numpy as np
from scipy.special import logsumexp


def _prox(pi, ref, field, beta, gamma):
    # minimiser of -(1/β)<π, field> + KL(π‖ref) + (1/γ) KL(π‖π_k): log π ∝ (γ log ref + log π_k + (γ/β) field)/(1+γ)
    logits = (gamma * np.log(ref) + np.log(pi) + gamma / beta * field) / (1.0 + gamma)
    return np.exp(logits - logsumexp(logits))


def update(pi, P, ref, beta, eta):
    gamma = eta * beta
    half = _prox(pi, ref, P @ pi, beta, gamma)
    return _prox(pi, ref, P @ half, beta, gamma)
