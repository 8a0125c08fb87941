"""Corpus: EGPO-form Nash-MP computed in numpy float32.

`update` returns float32 arrays: expected CONSISTENT at float32's tolerance (`--declared extragradient
--eta eta_e=...` or `--declared nash-mp`). `update_upcast` computes in float32 but returns float64:
expected FLAGGED with the diagnosis "float32 rounding" (CONSISTENT with --precision float32).
"""
import numpy as np


def update(pi, P, ref, beta, eta):
    f = np.float32
    eta_e = f(eta / (1.0 + eta * beta))
    A = P.astype(f) - f(0.5)
    log_pi, log_ref = np.log(pi.astype(f)), np.log(ref.astype(f))

    def step(opp):
        z = (f(1) - eta_e * f(beta)) * log_pi + eta_e * f(beta) * log_ref + eta_e * (A @ opp)
        w = np.exp(z - z.max())
        return w / w.sum()

    return step(step(pi.astype(f)))


def update_upcast(pi, P, ref, beta, eta):
    return update(pi, P, ref, beta, eta).astype(np.float64)
