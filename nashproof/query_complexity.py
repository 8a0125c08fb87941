"""Iteration and query complexity, derived from the claim catalogue with sympy.

For a method whose claim bounds the metric by B(k) (an explicit bound, or a one-step contraction
KL_{k+1} ≤ r·KL_k iterated), the iteration count is the smallest k with B(k) ≤ ε. The closed form
comes from solving B(k) = ε symbolically; the integer is then settled by exact rational
comparisons (or, where B(k) is irrational, by high-precision evaluation with escalation), so a
ceiling is never off by one. Nothing is read from a separate table.

The inexact and sampled Nash-MP counts are :mod:`nashproof.inexact_complexity` (re-exported here).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import sympy as sp

from .claims import KL, KL0, Catalogue, Claim, KL_next, builtin_catalogue, eps, human, k
from .claims import C as C_sym
from .claims import beta as beta_sym
from .claims import eta as eta_sym
from .errors import InputError
from .inexact_complexity import InexactComplexity as InexactComplexity
from .inexact_complexity import approach_factor as approach_factor
from .inexact_complexity import best_m as best_m
from .inexact_complexity import inexact_bound as inexact_bound
from .inexact_complexity import inexact_complexity as inexact_complexity
from .inexact_complexity import inexact_floor as inexact_floor
from .inexact_complexity import sampled_delta as sampled_delta
from .inexact_complexity import split_balance as split_balance
from .numbers import check_beta, fraction_str

R = sp.Rational


@dataclass(frozen=True)
class Method:
    """How a solver's guarantee is read: which claim, which step, how many queries per iteration."""

    name: str
    claims: dict[str, str]  # metric → claim id
    queries_per_iteration: int
    note: str = ""


METHODS: dict[str, Method] = {m.name: m for m in [
    Method("nash-mp", {"kl": "NMP-KL", "exploitability": "NMP-EXPL"}, 2),
    Method("nash-md", {"kl": "NMD-KL"}, 1),
    Method("mmd", {"kl": "MMD-KL"}, 1),
    Method("extragradient", {"kl": "EG-KL"}, 2),
    Method("proximal-point", {"kl": "PROX-KL-STEP"}, 1,
           "idealised: one query per exact proximal step; the inner solve is not counted"),
    Method("omd", {}, 1, "online mirror descent at η is exactly MMD at η/(1−ηβ) (derived), so it converges "
           "linearly for ηβ < 1; it has no claim of its own in the catalogue, so no count here (see mmd)"),
]}


@dataclass
class MethodResult:
    method: str
    iterations: int | None
    queries: int | None
    formula: str
    latex: str
    order: str
    assumptions: list[str]
    claim: str | None
    provenance: str | None
    step: str | None = None  # the step the count assumes (η; η_e for extragradient; None for a schedule)
    measured: int | None = None
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        d: dict[str, object] = {key: value for key, value in self.__dict__.items()}
        if self.measured is not None and self.iterations:
            d["prediction_over_measured"] = round(self.iterations / max(self.measured, 1), 4)
        return d


@dataclass
class Complexity:
    beta: Fraction
    eps: Fraction
    metric: str
    kl0: str
    kl0_source: str
    methods: dict[str, MethodResult] = field(default_factory=dict)
    chosen_beta: Fraction | None = None
    inexact: InexactComplexity | None = None  # with delta or samples_per_query (issue 11)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "beta": fraction_str(self.beta), "eps": fraction_str(self.eps), "metric": self.metric,
            "kl0": self.kl0, "kl0_source": self.kl0_source,
            "methods": {name: r.as_dict() for name, r in self.methods.items()},
        }
        if self.chosen_beta is not None:
            out["chosen_beta"] = fraction_str(self.chosen_beta)
        if self.inexact is not None:
            out["inexact"] = self.inexact.as_dict()
        return out


def _rat(x: Fraction) -> sp.Rational:
    return sp.Rational(x.numerator, x.denominator)


def bound_in_k(claim: Claim) -> sp.Expr:
    """B(k) with metric_k ≤ B(k), from an explicit bound or an iterated one-step contraction."""
    rel = claim.statements[0]
    if claim.kind == "bound":
        return sp.sympify(rel.rhs)
    if claim.kind == "step":
        ratio = sp.simplify(rel.rhs / KL)
        if rel.lhs != KL_next or ratio.has(KL) or ratio.has(k):
            raise InputError(f"claim {claim.id}: not a homogeneous one-step contraction")
        return sp.sympify(ratio**k * KL0)
    if claim.kind == "rate":
        return sp.sympify(rel.rhs)
    raise InputError(f"claim {claim.id} ({claim.kind}) gives no bound in k")


def _decide(bound: sp.Expr, kk: int, target: sp.Rational) -> bool:
    """B(kk) ≤ ε, decided without rounding luck.

    High-precision evaluation first (B(k) may be an exact rational with millions of digits, e.g.
    (1+4β²)^(−k) at k ~ 10⁷); the precision is raised until the difference clears a bound on the
    evaluation error, and exact rational arithmetic settles a tie when the numbers are small enough.
    """
    for dps in (60, 200, 1000):
        with mpmath.workdps(dps):
            f = sp.lambdify(k, bound, modules="mpmath")
            value = mpmath.mpf(f(mpmath.mpf(kk)))
            eps_v = mpmath.mpf(target.p) / target.q
            tol = mpmath.mpf(10) ** (-(dps - 10)) * max(1, kk) * (abs(value) + abs(eps_v))
            if abs(value - eps_v) > tol:
                return bool(value < eps_v)
    k_in_exponent = any(p.exp.has(k) for p in bound.atoms(sp.Pow))
    exact = bound.subs(k, kk) if kk < 10**5 or not k_in_exponent else None
    if exact is not None and exact.is_Rational:
        return bool(exact <= target)
    raise InputError("cannot decide B(k) ≤ ε even at 1000 digits (equality?)")


#: Largest iteration count searched for (a bound that needs more is reported, not searched for ever).
MAX_ITERATIONS = 10**300


def smallest_k(bound: sp.Expr, target: sp.Rational, guess: int | None) -> int:
    """The least k ≥ 0 with bound(k) ≤ target, for a bound decreasing in k.

    From the closed form's guess (or 1), gallop (steps 1, 2, 4, ...) to bracket the answer, then
    bisect: O(log |guess − k|) decisions, however far a rounded guess is off.
    """
    if _decide(bound, 0, target):
        return 0
    start = max(1, guess) if guess is not None else 1
    if _decide(bound, start, target):  # answer ≤ start: gallop down
        hi, step = start, 1
        lo = hi - step
        while lo > 0 and _decide(bound, lo, target):
            hi, step = lo, step * 2
            lo = max(0, hi - step)
    else:  # answer > start: gallop up
        lo, step = start, 1
        hi = lo + step
        while not _decide(bound, hi, target):
            if hi > MAX_ITERATIONS:
                raise InputError("ε is not reached within 10^300 iterations (the bound does not get that small)")
            lo, step = hi, step * 2
            hi = lo + step
    while hi - lo > 1:  # invariant: bound(lo) > ε ≥ bound(hi)
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if _decide(bound, mid, target) else (mid, hi)
    return hi


def _order(expr: sp.Expr) -> str:
    """Θ(·) of N as β → 0 (then ε → 0), constants dropped."""
    try:
        lead = sp.factor(sp.expand_log(sp.sympify(expr).as_leading_term(beta_sym), force=True))
    except Exception:  # sympy raises PoleError and others where no leading term exists
        return "unknown"
    logs = sp.log(beta_sym) + sp.log(eps) + sp.log(2)
    lead = lead.subs(logs, -sp.log(1 / (2 * beta_sym * eps)))
    coeff, rest = lead.as_coeff_Mul()
    return f"Θ({sp.sstr(rest if coeff != 0 else lead)})"


@functools.lru_cache(maxsize=128)
def closed_form(claim: Claim) -> tuple[sp.Expr, sp.Expr | None]:
    """(B(k), the k solving B(k) = ε, or None), cached per claim: sympy's solve is the slow part."""
    bound = bound_in_k(claim)
    solved = sp.solve(sp.Eq(bound, eps), k)
    closed = next((s for s in solved if s.is_real is not False), None)
    return bound, None if closed is None else sp.simplify(sp.expand_log(closed, force=True))


def _times(q: int) -> str:
    """``N = 2k`` but ``N = k``, never ``1k``."""
    return "k" if q == 1 else f"{q}k"


def _derive(method: Method, claim: Claim, subs: dict[sp.Symbol, sp.Expr], target: sp.Rational,
            assumptions: list[str], order_subs: dict[sp.Symbol, sp.Expr]) -> MethodResult:
    bound, closed = closed_form(claim)
    q = method.queries_per_iteration
    if closed is not None:
        formula_k = sp.ceiling(closed)
        text = f"k = {sp.sstr(formula_k)}, N = {_times(q)}"
        latex = rf"k = {sp.latex(formula_k)},\quad N = {_times(q)}"
        approx = sp.N(closed.subs(subs).subs(eps, target), 60)
        guess = int(sp.ceiling(approx)) if approx.is_real and approx.is_finite else None
        order = _order((q * closed).subs(order_subs))
    else:
        text = f"least k with {sp.sstr(bound)} ≤ ε, N = {_times(q)}"
        latex = rf"\min\{{k : {sp.latex(bound)} \le \varepsilon\}},\quad N = {_times(q)}"
        guess, order = None, "unknown"
    hyps = [human(h) for h in claim.hypotheses]
    try:
        iterations = smallest_k(sp.sympify(bound.subs(subs)), target, guess)
    except InputError as exc:  # e.g. more than 10^300 iterations: reported for this method only
        return MethodResult(method.name, None, None, text, latex, order, assumptions, claim.id, claim.provenance,
                            note=str(exc))
    step = subs.get(eta_sym)
    step_text = None if method.name == "nash-md" or step is None else sp.sstr(step)
    return MethodResult(method.name, iterations, q * iterations, text, latex, order,
                        assumptions + [f"hypothesis: {h}" for h in hyps], claim.id, claim.provenance,
                        step=step_text, note=method.note)


def complexity(
    beta: Fraction | str | int | None,
    eps: Fraction | str | int,
    metric: str = "kl",
    eta: Fraction | str | int | None = None,
    kl0: Fraction | str | None = None,
    actions: int | None = None,
    min_ref: Fraction | None = None,
    constant: Fraction | str | int = 1,
    catalogue: Catalogue | None = None,
    kl0_value: str | None = None,
    delta: Fraction | str | int | None = None,
    samples_per_query: int | None = None,
    confidence: Fraction | str = Fraction(95, 100),
    contexts: int = 1,
    start_at_reference: bool = True,
) -> Complexity:
    """Iterations and queries each method needs to reach ``eps`` on ``metric``, from its claim.

    Defaults: π_0 = π_ref, KL₀ = 1/(2β) (the NMP-KL0 bound), Nash-MP step η = 2, each baseline at
    the largest step its own claim admits. ``kl0_value`` (a decimal string) overrides KL₀ with a
    measured value; ``kl0`` with an exact one. With ``delta`` (per-step error) or ``samples_per_query``
    (m duels per action, claim confidence ``confidence``), ``result.inexact`` holds what NMP-APPROX or
    NMP-APPROX-HP predicts for Nash-MP: floor, reachability, iterations, queries, samples, best m.
    ``start_at_reference=False`` (a game with start logits): claims that assume π_0 = π_ref give no count.
    """
    from .numbers import parse_positive, parse_rational

    if beta is None and metric != "unregularized":
        raise InputError("beta is required (except for the unregularized metric, which chooses it)")
    raw_beta: Fraction | str | int = Fraction(1) if beta is None else beta
    b = check_beta(parse_positive(raw_beta, "beta") if not isinstance(raw_beta, Fraction) else raw_beta)
    e = parse_positive(eps, "eps") if not isinstance(eps, Fraction) else eps
    if e <= 0:
        raise InputError("eps must be > 0")
    cat = catalogue or builtin_catalogue()
    if metric not in ("kl", "exploitability", "unregularized"):
        raise InputError(f"unknown metric {metric!r}; choose kl, exploitability or unregularized")
    c_val = parse_positive(constant, "constant") if not isinstance(constant, Fraction) else constant
    chosen_beta = None
    target = _rat(e)
    work_beta = b
    if metric == "unregularized":
        mr = min_ref if min_ref is not None else (Fraction(1, actions) if actions else None)
        if mr is None:
            raise InputError("the unregularized metric needs --actions n (uniform π_ref) or --game")
        if mr >= 1:
            raise InputError("min π_ref must be < 1 (a game with one action has nothing to learn)")
        # NMP-UNREG: Expl_0 ≤ Expl_β + β log(1/min π_ref). Take β log(1/min π_ref) ≤ ε/2 with a rational
        # β just below ε/(2 log(1/min π_ref)), then reach Expl_β ≤ ε/2.
        with mpmath.workdps(50):
            log_inv_min = mpmath.log(mpmath.mpf(mr.denominator) / mr.numerator)
            ideal = mpmath.mpf(e.numerator) / e.denominator / (2 * log_inv_min)
            work_beta = Fraction(int(mpmath.floor(ideal * 10**12)), 10**12)
        if work_beta <= 0:
            raise InputError("eps too small for the unregularized reduction at this precision")
        chosen_beta = work_beta
        target = _rat(e / 2)
    # 'max' and 'r*max' are η̄ at the β the counts use (for the unregularized metric, the chosen one).
    if isinstance(eta, str) and "max" in eta:
        from .suite import parse_eta

        nmp_eta = parse_eta(eta, work_beta) or Fraction(2)
    else:
        nmp_eta = parse_positive(eta, "eta") if eta is not None else Fraction(2)
    kl0_sym_rat: Fraction | None = None
    if kl0_value is not None:
        kl0_sym: sp.Expr = sp.Float(kl0_value, 60)
        kl0_text, kl0_source = kl0_value, "measured KL(π*_β‖π_0) of the game"
    elif kl0 is not None:
        kl0_rat = parse_rational(kl0, "kl0") if not isinstance(kl0, Fraction) else kl0
        if kl0_rat < 0:
            raise InputError("kl0 must be ≥ 0")
        kl0_sym, kl0_text, kl0_source = _rat(kl0_rat), fraction_str(kl0_rat), "given"
        kl0_sym_rat = kl0_rat
    else:
        kl0_sym = 1 / (2 * _rat(work_beta))
        kl0_text, kl0_source = fraction_str(1 / (2 * work_beta)), "NMP-KL0 bound 1/(2β) with π_0 = π_ref"
    result = Complexity(work_beta, e, metric, kl0_text, kl0_source, chosen_beta=chosen_beta)
    wb = _rat(work_beta)
    steps: dict[str, tuple[sp.Expr, str]] = {
        "nash-mp": (_rat(nmp_eta), f"η = {fraction_str(nmp_eta)}" + (" (default)" if eta is None else "")),
        "nash-md": (sp.Integer(0), "η_t = 2/(β(t+2)) (Munos Thm 1 schedule)"),
        "mmd": (4 * wb, "η = 4β = β/L² (largest step MMD-KL admits)"),
        "extragradient": (1 / (wb + 1), "η_e = 1/(β+1) (largest step EG-KL admits)"),
        "proximal-point": (_rat(nmp_eta), f"η = {fraction_str(nmp_eta)} (Nash-MP's step, for comparison)"),
    }
    use_metric = "exploitability" if metric in ("exploitability", "unregularized") else "kl"
    for name, method in METHODS.items():
        cid = method.claims.get(use_metric)
        if cid is None:
            reason = method.note if name == "omd" else f"no {use_metric} claim for {name} in the catalogue"
            result.methods[name] = MethodResult(name, None, None, "-", "-", "-", [], None, None, note=reason)
            continue
        claim = cat.get(cid)
        step, step_text = steps[name]
        subs = {beta_sym: wb, eta_sym: step, KL0: kl0_sym, C_sym: _rat(c_val)}
        order_subs = {KL0: 1 / (2 * beta_sym), eta_sym: step.subs(wb, beta_sym) if name != "nash-md" else 0,
                      C_sym: 1}
        if name in ("mmd", "extragradient"):
            order_subs[eta_sym] = {"mmd": 4 * beta_sym, "extragradient": 1 / (beta_sym + 1)}[name]
        assumptions = [step_text, "π_0 = π_ref" if start_at_reference else "π_0 from the game's start logits",
                       f"KL₀ = {kl0_text} ({kl0_source})"]
        if claim.kind == "rate":
            assumptions.append(f"rate claim with unknown constant: C = {fraction_str(c_val)} assumed "
                               f"(provenance {claim.provenance}); the count is an order, not a guarantee")
        if chosen_beta is not None:
            assumptions.append(f"β = {fraction_str(chosen_beta)} chosen by NMP-UNREG so that β·log(1/min π_ref) "
                               "≤ ε/2; target Expl_β ≤ ε/2")
        failed = next((h for h in claim.hypotheses if not h.has(sp.Symbol("schedule")) and not bool(
            sp.simplify(h.subs({**subs, sp.Symbol("start_ref"): int(start_at_reference)})))), None)
        if failed is not None:
            result.methods[name] = MethodResult(name, None, None, "-", "-", "-", assumptions, cid, claim.provenance,
                                                note=f"the claim's hypothesis does not hold: {human(failed)}")
            continue
        result.methods[name] = _derive(method, claim, subs, target, assumptions, order_subs)
    if delta is not None or samples_per_query is not None:
        if metric != "kl":
            raise InputError("the inexact and sampled counts are for the kl metric")
        from .solvers.inexact import check_confidence, check_delta

        result.inexact = inexact_complexity(
            work_beta, e, check_delta(delta) if delta is not None else None, samples_per_query, nmp_eta,
            kl0_value if kl0_value is not None else kl0_sym_rat,
            actions or 2, contexts, check_confidence(confidence))
    return result


def log_grid(spec: str, what: str) -> list[Fraction]:
    """``a:b:m`` → m log-spaced values from a to b (rounded to 6 significant digits, exact); else one value."""
    from .numbers import parse_positive

    if ":" not in spec:
        return [parse_positive(spec, what)]
    parts = spec.split(":")
    if len(parts) != 3:
        raise InputError(f"{what}: a grid looks like a:b:m, got {spec!r}")
    lo, hi = parse_positive(parts[0], what), parse_positive(parts[1], what)
    try:
        m = int(parts[2])
    except ValueError:
        raise InputError(f"{what}: grid count {parts[2]!r} is not an integer") from None
    if not 1 <= m <= 200:
        raise InputError(f"{what}: grid count must lie in [1, 200]")
    if m == 1:
        return [lo]
    out = []
    for i in range(m):
        x = math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * i / (m - 1))
        exp10 = math.floor(math.log10(x)) - 5
        out.append(Fraction(round(x / 10**exp10)) * Fraction(10) ** exp10)
    out[0], out[-1] = lo, hi
    return out
