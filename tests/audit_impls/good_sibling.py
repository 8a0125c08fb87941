"""Correct Nash-MP whose prox lives in a sibling module (sibling_helper.py)."""
from sibling_helper import prox


def update(pi, P, ref, beta, eta):
    return prox(pi, ref, P @ prox(pi, ref, P @ pi, beta, eta), beta, eta)
