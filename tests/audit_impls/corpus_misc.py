"""Corpus: more rules and slips, each with its expected verdict (see tests/test_audit.py).

- `batched`: Nash-MP on arrays of shape (contexts, n): CONSISTENT with --batched.
- `decoupled`: the magnet weight is β, not ηβ/(1+ηβ): FLAGGED as nash-mp, "mixture weight decoupled".
- `mwu`: multiplicative weights (the negative control): CONSISTENT as mwu, FLAGGED as omd.
- `proximal`: the implicit proximal step, solved by damped fixed-point iteration: CONSISTENT as
  proximal-point.
- `own_lr`: MMD with its own hard-coded lr = 0.3 (ignores eta): `--eta auto` fits η = 3/10.
- `gamma_const`: Nash-MP with its own γ = ηβ = 0.1: `--eta auto` reports "constant γ = 1/10".
- `egpo` (takes η_e) and `gamma_form` (takes γ): CONSISTENT with `--eta eta_e=...` / `--eta gamma=...`.
"""
import numpy as np


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    w = np.exp(z)
    return w / w.sum(axis=-1, keepdims=True)


def _prox(log_pi, log_ref, field, beta, eta):
    return _softmax((log_pi + eta * beta * log_ref + eta * field) / (1 + eta * beta))


def batched(pi, P, ref, beta, eta):
    assert pi.ndim == 2 and P.ndim == 3
    lp, lr = np.log(pi), np.log(ref)
    half = _prox(lp, lr, np.einsum("kij,kj->ki", P, pi), beta, eta)
    return _prox(lp, lr, np.einsum("kij,kj->ki", P, half), beta, eta)


def decoupled(pi, P, ref, beta, eta):
    def step(opp):
        return _softmax((1 - beta) * np.log(pi) + beta * np.log(ref) + eta / (1 + eta * beta) * (P @ opp))
    return step(step(pi))


def mwu(pi, P, ref, beta, eta):
    return _softmax(np.log(pi) + eta * (P @ pi))


def proximal(pi, P, ref, beta, eta):
    x = pi.copy()
    for _ in range(500):
        nxt = _prox(np.log(pi), np.log(ref), P @ x, beta, eta)
        if np.max(np.abs(np.log(nxt) - np.log(x))) < 1e-15:
            break
        x = np.exp(0.5 * np.log(x) + 0.5 * np.log(nxt))
        x /= x.sum()
    return nxt


def own_lr(pi, P, ref, beta, eta):
    return _prox(np.log(pi), np.log(ref), P @ pi, beta, 0.3)


def gamma_const(pi, P, ref, beta, eta):
    e = 0.1 / beta
    lp, lr = np.log(pi), np.log(ref)
    return _prox(lp, lr, P @ _prox(lp, lr, P @ pi, beta, e), beta, e)


def egpo(pi, P, ref, beta, eta_e):
    """EGPO's extragradient, taking its own step η_e (centred preference, geometric weights)."""
    A = P - 0.5

    def step(opp):
        return _softmax((1 - eta_e * beta) * np.log(pi) + eta_e * beta * np.log(ref) + eta_e * (A @ opp))
    return step(step(pi))


def egpo_full_step_slip(pi, P, ref, beta, eta_e):
    """Wrong: EGPO's extragradient with the full step at 2η_e (the half step is right)."""
    A = P - 0.5

    def step(opp, e):
        return _softmax((1 - e * beta) * np.log(pi) + e * beta * np.log(ref) + e * (A @ opp))
    return step(step(pi, eta_e), 2 * eta_e)


def gamma_form(pi, P, ref, beta, gamma):
    """Nash-MP in the γ = ηβ normalisation, taking γ itself."""
    lp, lr = np.log(pi), np.log(ref)
    return _prox(lp, lr, P @ _prox(lp, lr, P @ pi, beta, gamma / beta), beta, gamma / beta)


def mmd_zero_floor(pi, P, ref, beta, eta):
    """Wrong: MMD that zeroes probabilities below 1e-3 (a hard threshold): flagged, a zero is not an underflow here."""
    z = (np.log(pi) + eta * beta * np.log(ref) + eta * (P @ pi)) / (1 + eta * beta)
    w = np.exp(z - z.max())
    w[w / w.sum() < 1e-3] = 0.0
    return w / w.sum()


def mwu_tiny_slip(pi, P, ref, beta, eta):
    """MWU at η·(1 + 1e-10): flagged; the diagnosis gives the step with all its digits (not "η = 2, not η = 2")."""
    z = np.log(pi) + eta * (1 + 1e-10) * (P @ pi)
    w = np.exp(z - z.max())
    return w / w.sum()
