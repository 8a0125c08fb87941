"""Correct Nash-MP with plain Python loops and multiplicative weights."""
import math

import numpy as np


def update(pi, P, ref, beta, eta):
    n = len(pi)
    c = 1.0 / (1.0 + eta * beta)

    def prox(opp):
        field = [sum(P[i][j] * opp[j] for j in range(n)) for i in range(n)]
        logs = [c * (math.log(pi[i]) + eta * beta * math.log(ref[i]) + eta * field[i]) for i in range(n)]
        m = max(logs)
        w = [math.exp(x - m) for x in logs]
        s = sum(w)
        return [x / s for x in w]

    return np.array(prox(prox(pi)))
