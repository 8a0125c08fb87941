"""Iteration and query complexity, derived from the claim catalogue with sympy.

For a method whose claim bounds the metric by B(k) (an explicit bound, or a one-step contraction
KL_{k+1} ≤ r·KL_k iterated), the iteration count is the smallest k with B(k) ≤ ε. The closed form
comes from solving B(k) = ε symbolically; the integer is then settled by exact rational
comparisons (or, where B(k) is irrational, by high-precision evaluation with escalation), so a
ceiling is never off by one. Nothing is read from a separate table.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import sympy as sp

from .claims import KL, KL0, Catalogue, Claim, KL_next, builtin_catalogue, eps, human, k
from .claims import C as C_sym
from .claims import beta as beta_sym
from .claims import eta as eta_sym
from .errors import InputError
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


# ---------------------------------------------------------------- inexact and sampled Nash-MP (issue 11)


@dataclass
class InexactComplexity:
    """Floor, reachability, iterations, queries and samples of inexact or sampled Nash-MP (NMP-APPROX[-HP])."""

    model: str  # "deterministic" (given δ) or "sampled" (m duels per action)
    beta: Fraction
    eps: Fraction
    eta: Fraction
    kl0: str
    actions: int
    contexts: int
    delta: str  # per-step span error (for sampled: 2η/(1+ηβ)·τ at the horizon found)
    floor: str
    reachable: bool
    iterations: int | None
    queries: int | None
    samples: int | None  # queries × n × m × contexts (sampled only)
    m: int | None = None
    confidence: str | None = None
    best_m: int | None = None
    best_samples: int | None = None
    best_iterations: int | None = None
    n_exponent: str | None = None  # local exponent of min-over-m total samples in n, d log S / d log n
    formula: str = ""
    claim: str = "NMP-APPROX"
    measured_iterations: int | None = None
    measured_samples: int | None = None
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {key: (fraction_str(v) if isinstance(v, Fraction) else v) for key, v in self.__dict__.items()}


def _inexact_terms(beta: Fraction, eta: Fraction) -> tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf, mpmath.mpf]:
    """ρ = (1+ηβ)^(−1/2), e(1) (√KL error per unit δ), c(1) (KL error per unit δ), 1+ηβ, at working precision."""
    eb = mpmath.mpf(eta.numerator) / eta.denominator * mpmath.mpf(beta.numerator) / beta.denominator
    et = mpmath.mpf(eta.numerator) / eta.denominator
    rho = 1 / mpmath.sqrt(1 + eb)
    e1 = (1 + et / (1 + eb)) / (2 * mpmath.sqrt(2))
    c1 = 1 + et / (2 * (1 + eb))
    return rho, e1, c1, 1 + eb


def inexact_bound(beta: Fraction, eta: Fraction, kl0: mpmath.mpf, delta: mpmath.mpf, kk: int) -> mpmath.mpf:
    """NMP-APPROX at iteration k: min of the √KL form and the linear form."""
    rho, e1, c1, a = _inexact_terms(beta, eta)
    phi = delta * e1 / (1 - rho)
    sq = (rho**kk * mpmath.sqrt(kl0) + phi * (1 - rho**kk)) ** 2
    lin = a ** (-kk) * kl0 + delta * c1 * a / (a - 1) * (1 - a ** (-kk))
    return min(sq, lin)


def inexact_floor(beta: Fraction, eta: Fraction, delta: mpmath.mpf) -> mpmath.mpf:
    rho, e1, c1, a = _inexact_terms(beta, eta)
    return min((delta * e1 / (1 - rho)) ** 2, delta * c1 * a / (a - 1))


def sampled_delta(beta: Fraction, eta: Fraction, m: int, alpha: mpmath.mpf, queries: int, n: int, contexts: int
                  ) -> mpmath.mpf:
    """2η/(1+ηβ)·√(log(2QnX/α)/(2m)): each step's span error at confidence 1 − α (Hoeffding + union bound)."""
    _, _, _, a = _inexact_terms(beta, eta)
    et = mpmath.mpf(eta.numerator) / eta.denominator
    return 2 * et / a * mpmath.sqrt(mpmath.log(2 * queries * n * contexts / alpha) / (2 * m))


def _first_k(bound_at: Callable[[int], mpmath.mpf], target: mpmath.mpf, cap: int = 1 << 40) -> int | None:
    """Least k with bound_at(k) ≤ target, for a bound that decreases and then (sampled) rises slowly."""
    if bound_at(0) <= target:
        return 0
    kk, prev = 1, bound_at(0)
    while kk <= cap:
        cur = bound_at(kk)
        if cur <= target:
            lo, hi = kk // 2, kk
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (lo, mid) if bound_at(mid) <= target else (mid, hi)
            return hi
        if cur >= prev and kk > 64:  # past the minimum without reaching the target
            return None
        prev, kk = cur, kk * 2
    return None


def inexact_complexity(beta: Fraction, eps: Fraction, delta: Fraction | None = None, m: int | None = None,
                       eta: Fraction = Fraction(2), kl0: Fraction | str | None = None, actions: int = 2,
                       contexts: int = 1, confidence: Fraction = Fraction(95, 100), with_best_m: bool = True
                       ) -> InexactComplexity:
    """What NMP-APPROX (given δ) or NMP-APPROX-HP (m duels per action, confidence 1 − α) predicts for ε."""
    from .solvers.inexact import check_confidence, check_delta, check_m

    check_beta(beta)
    if (delta is None) == (m is None):
        raise InputError("give exactly one of delta (per-step error) and samples per query m")
    if eps <= 0:
        raise InputError("eps must be > 0")
    if actions < 1 or contexts < 1:
        raise InputError("actions and contexts must be ≥ 1")
    if (eta / 2) ** 2 > 1 + eta * beta:
        raise InputError("the step violates (η/2)² ≤ 1 + ηβ, the hypothesis of NMP-APPROX")
    conf = check_confidence(confidence)
    with mpmath.workdps(40):
        k0 = (mpmath.mpf(kl0) if isinstance(kl0, str) else mpmath.mpf(kl0.numerator) / kl0.denominator
              if kl0 is not None else 1 / (2 * mpmath.mpf(beta.numerator) / beta.denominator))
        target = mpmath.mpf(eps.numerator) / eps.denominator
        kl0_text = mpmath.nstr(k0, 12) + ("" if kl0 is not None else " (NMP-KL0 bound 1/(2β))")
        alpha = 1 - mpmath.mpf(conf.numerator) / conf.denominator
        if delta is not None:
            d = mpmath.mpf(check_delta(delta).numerator) / delta.denominator
            floor = inexact_floor(beta, eta, d)
            kk = _first_k(lambda t: inexact_bound(beta, eta, k0, d, t), target) if floor < target or k0 <= target \
                else None
            return InexactComplexity(
                "deterministic", beta, eps, eta, kl0_text, actions, contexts, mpmath.nstr(d, 12),
                mpmath.nstr(floor, 12), kk is not None, kk, None if kk is None else 2 * kk, None,
                formula="least k with min((ρ^k√KL₀ + φ(δ)(1−ρ^k))², (1+ηβ)^−k KL₀ + c(δ)(1+ηβ)/(ηβ)(1−(1+ηβ)^−k)) ≤ ε",
                note="" if kk is not None else "the floor is above ε: ε is not reachable with this δ")
        mm = check_m(m)

        def solve(mv: int) -> tuple[int | None, mpmath.mpf]:
            def at(t: int) -> mpmath.mpf:
                return inexact_bound(beta, eta, k0, sampled_delta(beta, eta, mv, alpha, max(2 * t, 1), actions,
                                                                  contexts), t)
            kk = _first_k(at, target)
            horizon = max(kk or 0, 1)  # k = 0 (KL₀ ≤ ε already) still quotes δ for one iteration, not log(0)
            return kk, sampled_delta(beta, eta, mv, alpha, 2 * horizon, actions, contexts)

        kk, d = solve(mm)
        per_query = actions * mm * contexts
        result = InexactComplexity(
            "sampled", beta, eps, eta, kl0_text, actions, contexts, mpmath.nstr(d, 12),
            mpmath.nstr(inexact_floor(beta, eta, d), 12), kk is not None, kk, None if kk is None else 2 * kk,
            None if kk is None else 2 * kk * per_query, m=mm, confidence=fraction_str(conf), claim="NMP-APPROX-HP",
            formula="δ = 2η/(1+ηβ)·√(log(2QnX/α)/(2m)) with Q = 2k; least k with NMP-APPROX(δ) ≤ ε; "
                    "samples = 2k·n·m·X",
            note="" if kk is not None else "the floor is above ε at this m: ε is not reachable; raise m")
        if with_best_m:
            best = best_m(beta, eps, eta, k0, actions, contexts, alpha)
            if best is not None:
                result.best_m, result.best_iterations, result.best_samples = best
            big = best_m(beta, eps, eta, k0, 2 * actions, contexts, alpha)
            if best is not None and big is not None and best[2] > 0 and big[2] > 0:  # 0 when KL₀ ≤ ε already
                result.n_exponent = f"{math.log(big[2] / best[2]) / math.log(2):.4f}"
        return result


def best_m(beta: Fraction, eps: Fraction, eta: Fraction, k0: mpmath.mpf, actions: int, contexts: int,
           alpha: mpmath.mpf) -> tuple[int, int, int] | None:
    """(m, iterations, total samples) minimising total samples 2k·n·m·X to reach ε (grid ×1.05, then ±1)."""
    target = mpmath.mpf(eps.numerator) / eps.denominator

    def total(mv: int) -> tuple[int, int] | None:
        def at(t: int) -> mpmath.mpf:
            return inexact_bound(beta, eta, k0, sampled_delta(beta, eta, mv, alpha, max(2 * t, 1), actions,
                                                              contexts), t)
        kk = _first_k(at, target)
        return None if kk is None else (kk, 2 * kk * actions * mv * contexts)

    with mpmath.workdps(30):
        best: tuple[int, int, int] | None = None
        mv, seen_ok, worse = 1, False, 0
        while mv < 10**15 and worse < 40:
            r = total(mv)
            if r is not None:
                seen_ok = True
                if best is None or r[1] < best[2]:
                    best, worse = (mv, r[0], r[1]), 0
                else:
                    worse += 1
            elif seen_ok:
                worse += 1
            mv = max(mv + 1, int(mv * 1.05))
        if best is None:
            return None
        lo, hi = max(1, int(best[0] / 1.06)), int(best[0] * 1.06) + 1
        for mv in range(lo, hi + 1) if hi - lo < 2000 else ():
            r = total(mv)
            if r is not None and r[1] < best[2]:
                best = (mv, r[0], r[1])
        return best


def split_balance(probs: Sequence[float]) -> float:
    """max q(1 − q) over the splits of the actions into two sets, q the probability of one set (1/4 when even).

    Exact for up to 14 actions; beyond, the greedy split (largest first, onto the lighter side), a lower bound,
    so a factor computed from it is only looser.
    """
    p = sorted((float(x) for x in probs), reverse=True)
    if len(p) <= 14:
        sums = [0.0]
        for x in p[1:]:
            sums += [s + x for s in sums]
        return max((p[0] + s) * (1 - p[0] - s) for s in sums[:-1] or [0.0])
    a = b = 0.0
    for x in p:
        a, b = (a + x, b) if a <= b else (a, b + x)
    return a * b / (a + b) ** 2


def approach_factor(beta: Fraction, eta: Fraction = Fraction(2), pistar: Sequence[Sequence[float]] | None = None,
                    weights: Sequence[float] | None = None) -> float:
    """3τ(ηβ)²·(1/4)/b: the factor within which adversarial runs approach the NMP-APPROX floor (docs/proofs.md §9.3).

    τ(ηβ) = (1 + η/(1+ηβ))·(ηβ/(1+ηβ))/(1 − (1+ηβ)^(−1/2)) is the exact gap on the all-ties game; the factor 3
    is empirical. b is π*'s split balance (`split_balance`, averaged over contexts with their weights): a two-level
    log-perturbation of span d moves KL(π*‖·) by about b·d²/2, so a concentrated π* (small b) is approached less
    closely. Without ``pistar``, b = 1/4 (a π* that splits into two equal halves).
    """
    eb, et = float(eta * beta), float(eta)
    tau = (1 + et / (1 + eb)) * (eb / (1 + eb)) / (1 - (1 + eb) ** -0.5)
    balance = 0.25
    if pistar is not None:
        w = list(weights) if weights is not None else [1 / len(pistar)] * len(pistar)
        balance = sum(wc * split_balance(pc) for wc, pc in zip(w, pistar))
    return math.inf if balance <= 0 else float(3 * tau**2 * 0.25 / balance)
