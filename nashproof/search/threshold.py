"""The local threshold of the Nash-MP step near π* (``step_threshold``), and the worst one-step ratio
far from π* (``far_regime``).

Near π*, one step is the linear map T = [I + (ηB + η²B²)/c]/c, c = 1 + ηβ, on log-policy perturbations, with
B = Q D^½ A D^½ Q skew-symmetric (D = diag π*, A = P − ½, Q projects out √π*); in the Fisher
metric its KL ratio times c is max_j [(1 − x_j/c)² + x_j/c²]/c, x_j = η²μ_j², over the singular
values μ_j of B on the tangent space (docs/proofs.md §3.4).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath

from ..claims import builtin_catalogue
from ..games import Game
from ..numbers import fraction_str
from ..parallel import pmap
from ..verify import local_kl_ratio, local_radius2, local_spectrum
from .objective import SearchTask, run_search_task
from .space import Space
from .targets import Target

mp = mpmath.mp


def _first_crossing(f: Callable[[mpmath.mpf], mpmath.mpf], start: mpmath.mpf, limit: mpmath.mpf) -> mpmath.mpf | None:
    """Smallest η in [start, limit] with f(η) = 1 (f < 1 at start), by a geometric scan then bisection."""
    lo = start
    if f(lo) >= 1:
        return lo
    while lo < limit:
        hi = lo * mp.mpf(2) ** (mp.mpf(1) / 32)
        if f(hi) >= 1:
            for _ in range(mp.prec + 8):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if f(mid) < 1 else (lo, mid)
            return hi
        lo = hi
    return None


@dataclass
class StepThreshold:
    """The local thresholds of one game at one β, in units of η̄(β) and absolute."""

    game: str
    beta: Fraction
    eta_bar: mpmath.mpf
    mu_max: mpmath.mpf
    kl_threshold: mpmath.mpf | None  # largest η with the local KL contraction by 1/(1+ηβ)
    conv_threshold: mpmath.mpf | None  # largest η with local convergence (spectral radius < 1)
    far: list[tuple[str, float]] = field(default_factory=list)  # (η/η̄, worst one-step ratio found)

    def as_dict(self) -> dict[str, object]:
        def s(x: mpmath.mpf | None) -> str | None:
            return None if x is None else mp.nstr(x, 20)

        return {"game": self.game, "beta": fraction_str(self.beta), "eta_bar": s(self.eta_bar),
                "mu_max": s(self.mu_max), "kl_threshold": s(self.kl_threshold),
                "kl_threshold_over_eta_bar": s(self.kl_threshold / self.eta_bar) if self.kl_threshold else None,
                "convergence_threshold": s(self.conv_threshold),
                "convergence_threshold_over_eta_bar": (s(self.conv_threshold / self.eta_bar)
                                                       if self.conv_threshold else None),
                "far_regime": [{"eta_over_eta_bar": m, "worst_step_ratio": r} for m, r in self.far]}


def step_threshold(game: Game, beta: Fraction, digits: int = 40) -> StepThreshold:
    """Exact (to ``digits``) local thresholds of the Nash-MP step, worst over contexts."""
    mus = [m for ctx in local_spectrum(game, beta, digits) for m in ctx]
    with mpmath.workdps(digits + 10):
        bt = mp.mpf(beta.numerator) / beta.denominator
        bar = 2 * (bt + mp.sqrt(1 + bt**2))
        limit = bar * 1024
        kl = _first_crossing(lambda e: local_kl_ratio(e, bt, mus), bar / 64, limit)
        conv = _first_crossing(lambda e: local_radius2(e, bt, mus), bar / 64, limit)
        return StepThreshold(game.label, beta, bar, max(mus), kl, conv)


def far_regime(game: Game, beta: Fraction, multiples: Sequence[Fraction], evals: int, seed: int,
               jobs: int | None, dask: str | None) -> list[tuple[str, float]]:
    """Worst one-step NMP-KL-STEP ratio over starting points, at η = m·η̄ for each m (float64 search)."""
    claim = builtin_catalogue().get("NMP-KL-STEP")
    from ..verify import eta_bar_below

    bar = eta_bar_below(beta)
    tasks = [SearchTask(Target(claim.id, 0), Space(game.n, "nash-mp", 1, beta_range=(beta, beta), eta=m * bar,
                                                   ignore_hypotheses=True, game=game), evals, 0, seed)
             for m in multiples]
    results = pmap(run_search_task, tasks, jobs, dask)
    return [(fraction_str(m), r.ratio) for m, r in zip(multiples, results)]
