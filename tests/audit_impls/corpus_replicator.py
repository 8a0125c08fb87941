"""Corpus: replicator dynamics as nashpy-style code integrates it, one explicit Euler step of size dt.

Expected: `euler` declared `--declared replicator --eta 1/1000` CONSISTENT; declared `--declared mwu
--eta 1/1000` FLAGGED with the diagnosis "a first-order (Euler) step" (never "float32": the outputs are
float64 values, off float32's grid); `projected` (ADIDAS-style: the Euler step then a floor at 1e-2 and a
renormalisation) declared `replicator` FLAGGED with "clamped below at ε = 1/100".
"""
import numpy as np


def euler(pi, P, ref, beta, eta):
    fitness = P @ pi
    return pi + eta * pi * (fitness - pi @ fitness)


def projected(pi, P, ref, beta, eta):
    x = np.maximum(euler(pi, P, ref, beta, eta), 1e-2)
    return x / x.sum()
