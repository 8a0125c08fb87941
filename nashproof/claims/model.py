"""The claims' vocabulary: the sympy symbols a statement may use (:data:`SYMBOLS` says what each
means), the kinds of claim, the provenance tags, and :class:`Claim` itself.

The lowest module of :mod:`nashproof.claims`: the built-in claims (:mod:`nashproof.claims.catalogue`)
and the open catalogue (:mod:`nashproof.claims`) build on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..errors import InputError

# ------------------------------------------------------------------ symbols
beta, eta, k, N, n, eps, C = sp.symbols("beta eta k N n epsilon C", positive=True)
sched = sp.Symbol("schedule")  # 1 when Nash-MD uses η_t = 2/(β(t+2)), else 0
start_ref = sp.Symbol("start_ref")  # 1 when π_0 = π_ref exactly, else 0
inner_pg = sp.Symbol("inner_pg")  # 1 when each proximal step is an inner policy-gradient loop, else 0
rho_loc = sp.Symbol("rho_loc", positive=True)  # asymptotic KL rate of the Nash-MP step at π* (linearised)
KL, KL_next, KL0 = sp.symbols("KL_k KL_{k+1} KL_0", nonnegative=True)
KL_rev = sp.Symbol("KLrev_k", nonnegative=True)  # KL(π_k‖π*)
L1 = sp.Symbol("L1_k", nonnegative=True)  # ‖π_k − π*‖₁
L1_sq = sp.Symbol("L1sq_k", nonnegative=True)  # ρ-average of ‖π_k − π*‖₁²
L1_half = sp.Symbol("L1_{k+1/2}", nonnegative=True)  # ‖π_{k+½} − π*‖₁
Expl = sp.Symbol("Expl_k", nonnegative=True)  # Expl_β(π_k)
Expl_0 = sp.Symbol("Expl0_k")  # unregularized exploitability of π_k
Span, Span_next = sp.symbols("span_k span_{k+1}", nonnegative=True)
KL_ref_star = sp.Symbol("KL(pi*||ref)", nonnegative=True)
P_ref_star = sp.Symbol("P(ref>pi*)", nonnegative=True)
min_ref = sp.Symbol("min_ref", positive=True)
K_eps = sp.Symbol("K_epsilon", nonnegative=True)  # first k with KL_k ≤ ε
# ---- inexact and stochastic Nash-MP (issue 11)
delta = sp.Symbol("delta", nonnegative=True)  # per-step error bound, span of log-policies
m_duels = sp.Symbol("m", positive=True)  # duels per action and query
alpha = sp.Symbol("alpha", positive=True)  # failure probability of a high-probability claim
Q_tot = sp.Symbol("Q", positive=True)  # queries over the whole horizon (union bound)
X_ctx = sp.Symbol("X", positive=True)  # number of contexts
T_in = sp.Symbol("T", positive=True)  # inner policy-gradient steps per proximal step
lam = sp.Symbol("lam", positive=True)  # inner step λ (logits move by λ/(1+ηβ) × gradient)
RKL, RKL_next, RKL0 = sp.symbols("RKL_k RKL_{k+1} RKL_0", nonnegative=True)  # √KL
Step_err = sp.Symbol("err_k", nonnegative=True)  # measured per-step error
# ---- end inexact

#: What each symbol means, and the name of the value the checker substitutes for it.
SYMBOLS: dict[sp.Symbol, tuple[str, str]] = {
    beta: ("beta", "regularisation β"),
    eta: ("eta", "step size η (canonical; η_t for schedules)"),
    k: ("k", "iteration index"),
    N: ("N", "cumulative preference queries after k iterations"),
    n: ("n", "number of actions"),
    sched: ("schedule", "1 if Nash-MD runs the schedule η_t = 2/(β(t+2))"),
    start_ref: ("start_ref", "1 if the run starts at π_0 = π_ref exactly"),
    inner_pg: ("inner_pg", "1 if each proximal step is an inner policy-gradient loop (nash-mp-pg[-sampled])"),
    rho_loc: ("rho_loc", "squared spectral radius of the Nash-MP step linearised at π* (docs/proofs.md §3.4)"),
    KL: ("kl", "KL(π*‖π_k), ρ-averaged"),
    KL_next: ("kl@next", "KL(π*‖π_{k+1}), ρ-averaged"),
    KL0: ("kl@0", "KL(π*‖π_0), ρ-averaged"),
    KL_rev: ("kl_reverse", "KL(π_k‖π*), ρ-averaged"),
    L1: ("l1", "‖π_k − π*‖₁, ρ-averaged"),
    L1_sq: ("l1_sq", "ρ-average of ‖π_k − π*‖₁² (per-context squares)"),
    L1_half: ("l1_half", "‖π_{k+½} − π*‖₁, maximum over contexts"),
    Expl: ("exploitability", "Expl_β(π_k), ρ-averaged"),
    Expl_0: ("exploitability_unreg", "Expl_0(π_k), ρ-averaged"),
    Span: ("span", "span(log π_k − log π*), maximum over contexts"),
    Span_next: ("span@next", "span(log π_{k+1} − log π*), maximum over contexts"),
    KL_ref_star: ("kl_ref_star", "KL(π*‖π_ref), ρ-averaged"),
    P_ref_star: ("p_ref_star", "P(π_ref ≻ π*), ρ-averaged"),
    min_ref: ("min_ref", "min π_ref over actions and contexts"),
    K_eps: ("k_eps", "first k with KL_k ≤ ε (measured)"),
    eps: ("eps", "accuracy target ε"),
    C: ("C", "unknown constant of a rate claim"),
    # ---- inexact and stochastic Nash-MP (issue 11)
    delta: ("delta", "per-step error bound δ: span(log π̂ − log π) of every returned step (solver's guarantee)"),
    m_duels: ("m", "duels per action and query (sampled preferences)"),
    alpha: ("alpha", "failure probability α of a high-probability claim (confidence 1 − α)"),
    Q_tot: ("Q", "preference queries over the whole horizon (for the union bound)"),
    X_ctx: ("contexts", "number of contexts"),
    T_in: ("T", "inner policy-gradient steps per proximal step"),
    lam: ("lam", "inner step λ of the policy-gradient loop"),
    RKL: ("rootkl", "√KL(π*‖π_k), with KL ρ-averaged"),
    RKL_next: ("rootkl@next", "√KL(π*‖π_{k+1})"),
    RKL0: ("rootkl@0", "√KL(π*‖π_0)"),
    Step_err: ("step_err", "measured span error of iteration k's returned steps against the exact steps"),
    # ---- end inexact
}

KINDS = {
    "bound": "explicit bound, checked at every iterate",
    "step": "one-step inequality between consecutive iterates",
    "static": "a property of the game, checked once",
    "hitting": "iteration count to reach ε, checked for a grid of ε",
    "rate": "geometric rate with an unknown constant: fitted, not bounded",
    "dimension": "rate and constant do not grow with n: checked over a family of sizes",
    "existence": "existence only: no checkable statement is known",
    "probability": "holds with probability ≥ 1 − α over the seed: checked over R seeded runs (Clopper–Pearson)",
}

TAGS = {
    "A": "stated in the paper's abstract",
    "S": "a secondary summary of the paper (less reliable)",
    "D": "derived for this project (to verify, not a fact)",
    "L": "stated in another paper, cited",
    "E": "empirical only",
}


@dataclass(frozen=True)
class Claim:
    """One claim. ``statements`` all must hold; ``hypotheses`` say when the claim applies."""

    id: str
    title: str
    kind: str
    metric: str
    statements: tuple[sp.Basic, ...]
    hypotheses: tuple[sp.Basic, ...]
    solvers: tuple[str, ...]  # ("*",) for every solver
    provenance: str  # e.g. "A rate, D constant"; its tags are the capital letters A/S/D/L/E
    source: str
    derivation: str = ""
    rate: sp.Expr | None = None  # per-iteration rate, for kind "rate" and "dimension"
    scale: sp.Expr = field(default=sp.Integer(1))  # the rate claim's known factor, e.g. 1/β
    constant: sp.Expr | None = None  # a rate claim's constant C, when known: then C is checked as a bound
    constant_hypotheses: tuple[sp.Basic, ...] = ()  # when the constant applies (e.g. π_0 = π_ref)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"claim {self.id}: unknown kind {self.kind!r}")
        if not self.tags:
            raise InputError(f"claim {self.id}: provenance must carry a tag among {', '.join(TAGS)}")
        if self.kind in ("rate", "dimension") and self.rate is None:
            raise InputError(f"claim {self.id}: a rate claim needs its rate")

    @property
    def tags(self) -> tuple[str, ...]:
        words = self.provenance.replace(",", " ").replace(";", " ").split()
        return tuple(dict.fromkeys(w for w in words if w in TAGS))

    def applies_to(self, solver: str) -> bool:
        return "*" in self.solvers or solver in self.solvers

    def text(self) -> str:
        return " and ".join(sp.sstr(s) for s in self.statements) if self.statements else "(no checkable statement)"

    def latex(self) -> str:
        return r" \quad\text{and}\quad ".join(sp.latex(s) for s in self.statements)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "title": self.title, "statement": self.text(), "latex": self.latex(),
            "hypotheses": [sp.sstr(h) for h in self.hypotheses],
            "hypotheses_latex": [sp.latex(h) for h in self.hypotheses],
            "provenance": self.provenance, "tags": list(self.tags), "source": self.source,
            "kind": self.kind, "metric": self.metric, "solvers": list(self.solvers),
            "rate": sp.sstr(self.rate) if self.rate is not None else None,
            "constant": sp.sstr(self.constant) if self.constant is not None else None,
            "derivation": self.derivation,
        }
