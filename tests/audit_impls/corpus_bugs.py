"""Corpus: the bugs trainers have, each a one-line change to an MMD or Nash-MD step.

Expected (declared `--declared mmd --eta 1/5`, or `--declared nash-md --eta 1/5` for the Nash-MD ones),
each FLAGGED with the named cause: `kl_sign` "the KL term with the wrong sign", `magnet_current` "the
magnet equal to the current policy", `clamped` "logits clipped at 5 below the largest", `adam`
"per-coordinate step scaling: 20 Adam steps at learning rate 1/20", `md_temperature` "opponents at
temperature 9/10" (CONSISTENT when declared `--opponent-temperature 9/10`).
"""
import numpy as np


def _softmax(z):
    w = np.exp(z - z.max())
    return w / w.sum()


def mmd_logits(pi, P, ref, beta, eta, sign=1.0, magnet=None):
    magnet = ref if magnet is None else magnet
    return (np.log(pi) + sign * eta * beta * np.log(magnet) + eta * (P @ pi)) / (1 + sign * eta * beta)


def kl_sign(pi, P, ref, beta, eta):
    return _softmax(mmd_logits(pi, P, ref, beta, eta, sign=-1.0))


def magnet_current(pi, P, ref, beta, eta):
    return _softmax(mmd_logits(pi, P, ref, beta, eta, magnet=pi))


def clamped(pi, P, ref, beta, eta):
    z = mmd_logits(pi, P, ref, beta, eta)
    return _softmax(np.maximum(z - z.max(), -5.0))


def adam(pi, P, ref, beta, eta, steps=20, lr=0.05):
    """Distil the MMD target into logits with Adam (torch's defaults), as a trainer's inner loop does."""
    target = _softmax(mmd_logits(pi, P, ref, beta, eta))
    z = np.log(pi)
    m = np.zeros_like(z)
    v = np.zeros_like(z)
    for k in range(1, steps + 1):
        g = _softmax(z) - target  # gradient of the cross-entropy to the target
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        z = z - (lr / (1 - 0.9**k)) * m / (np.sqrt(v) / np.sqrt(1 - 0.999**k) + 1e-8)
    return _softmax(z)


def md_temperature(pi, P, ref, beta, eta, temperature=0.9):
    """Nash-MD whose opponent is sampled from the mixture at temperature 0.9 (its expectation)."""
    w = eta * beta
    mu = _softmax((1 - w) * np.log(pi) + w * np.log(ref))
    opponent = _softmax(np.log(mu) / temperature)
    return _softmax(np.log(mu) + eta * (P @ opponent))


def mirror_prox(pi, P, ref, beta, eta):
    """Mirror prox (entropic extragradient) at β = 0: expected CONSISTENT declared `mirror-prox`."""
    half = _softmax(np.log(pi) + eta * (P @ pi))
    return _softmax(np.log(pi) + eta * (P @ half))
