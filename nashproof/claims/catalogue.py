"""The built-in claims: spec §3 (Nash-MP) and §4 (baselines), each with its provenance.

Tags: A abstract, S secondary summary, D derived here (see docs/proofs.md), L another paper,
E empirical. A claim's constants may be D even where its rate is A: the provenance says which.
"""

from __future__ import annotations

import sympy as sp

from .model import (
    KL,
    KL0,
    C,
    Claim,
    Expl,
    Expl_0,
    K_eps,
    KL_next,
    KL_ref_star,
    KL_rev,
    L1_half,
    L1_sq,
    P_ref_star,
    Span,
    Span_next,
    beta,
    eps,
    eta,
    inner_pg,
    k,
    min_ref,
    rho_loc,
    sched,
    start_ref,
)

R = sp.Rational
PAPER = "Tiapkin et al., arXiv 2505.19731 v1 (abstract)"
SPEC = "derived for nashproof; proof in docs/proofs.md"
MUNOS = "Munos et al. 2023, arXiv 2312.00886"
STEP_OK = (eta / 2) ** 2 <= 1 + eta * beta
CONTRACT = 1 / (1 + eta * beta)

# ---- inexact and stochastic Nash-MP (issue 11; proofs in docs/proofs.md §9)
from .model import RKL, RKL0, Q_tot, Step_err, T_in, X_ctx, alpha, delta, lam, m_duels, n  # noqa: E402

EB = eta * beta
RHO = (1 + EB) ** R(-1, 2)  # √KL contracts by this per step


def approx_step_error(d: sp.Expr) -> sp.Expr:
    """e(δ): one step's additive error on √KL, (δ/(2√2))·(1 + η/(1+ηβ)) (half + full step)."""
    return d * (1 + eta / (1 + EB)) / (2 * sp.sqrt(2))


def approx_sqrt_floor(d: sp.Expr) -> sp.Expr:
    """φ(δ) = e(δ)/(1 − (1+ηβ)^(−1/2)): the floor of √KL."""
    return approx_step_error(d) / (1 - RHO)


def approx_linear_step(d: sp.Expr) -> sp.Expr:
    """c(δ) = δ(1 + η/(2(1+ηβ))): one step's additive error on KL (linear form)."""
    return d * (1 + eta / (2 * (1 + EB)))


def approx_linear_floor(d: sp.Expr) -> sp.Expr:
    return approx_linear_step(d) * (1 + EB) / EB


def approx_floor(d: sp.Expr) -> sp.Expr:
    """The KL floor: min(φ(δ)², c(δ)(1+ηβ)/(ηβ))."""
    return sp.Min(approx_sqrt_floor(d) ** 2, approx_linear_floor(d))


#: Hoeffding + union bound over Q queries × n actions × X contexts: each step's span error at confidence 1 − α.
DELTA_SAMPLED = 2 * eta / (1 + EB) * sp.sqrt(sp.log(2 * Q_tot * n * X_ctx / alpha) / (2 * m_duels))
#: The inner loop (T natural-gradient steps of size λ) leaves a span error ≤ r·2η/((1+ηβ)(1−r)), r = (1−λ)^T.
DELTA_INNER = (1 - lam) ** T_in * 2 * eta / ((1 + EB) * (1 - (1 - lam) ** T_in))


#: The inner loop's error bound (INNER-ERR) is proved from π_0 = π_ref only (docs/proofs.md §9.4): a
#: policy-gradient solver's δ, and so every claim built on it, needs that start.
PG_FROM_REF = sp.Or(sp.Eq(inner_pg, 0), sp.Eq(start_ref, 1))


def _approx_bound(d: sp.Expr) -> tuple[sp.Basic, ...]:
    # The √KL recursion squared, KL_k ≤ (ρ^k √KL_0 + φ(1 − ρ^k))², expanded with ρ^(2k) KL_0 so that k = 0 is
    # recognised as the identity KL_0 ≤ KL_0.
    phi = approx_sqrt_floor(d)
    return (sp.Le(KL, RHO ** (2 * k) * KL0 + 2 * RHO**k * RKL0 * phi * (1 - RHO**k) + (phi * (1 - RHO**k)) ** 2),
            sp.Le(KL, (1 + EB) ** (-k) * KL0 + approx_linear_floor(d) * (1 - (1 + EB) ** (-k))))


APPROX_DERIVATION = (
    "Three-point identities of both steps with the exact half step h as comparison point: the half-step error "
    "enters as η⟨π̃ − π*, A(ĥ − h)⟩ ≤ (η/2)‖π̃ − π*‖₁‖ĥ − h‖₁ with ‖ĥ − h‖₁ ≤ δ/2; the full-step error as "
    "⟨π*, w⟩ with span(w) ≤ δ, ≤ δ√(KL/2) + δ²/8 (Hoeffding's lemma) or ≤ δ. Pinsker, then iterate.")
APPROX_CLAIMS: list[Claim] = [
    Claim("NMP-APPROX-STEP", "Inexact Nash-MP, one step: √KL_{k+1} ≤ (1+ηβ)^(−1/2)√KL_k + e(δ) and "
          "KL_{k+1} ≤ KL_k/(1+ηβ) + c(δ)", "step", "kl",
          (sp.Le(KL_next, KL / (1 + EB) + 2 * RHO * RKL * approx_step_error(delta) + approx_step_error(delta) ** 2),
           sp.Le(KL_next, KL / (1 + EB) + approx_linear_step(delta))),
          (STEP_OK, PG_FROM_REF), ("nash-mp-inexact", "nash-mp-pg"), "D", SPEC, APPROX_DERIVATION),
    Claim("NMP-APPROX", "Inexact Nash-MP (per-step error δ) converges linearly to the floor "
          "min(φ(δ)², c(δ)(1+ηβ)/(ηβ))", "bound", "kl", _approx_bound(delta), (STEP_OK, PG_FROM_REF),
          ("nash-mp-inexact", "nash-mp-pg"), "A existence, D statement and constants",
          f"{PAPER} (existence); statement and constants {SPEC}", "Iterate NMP-APPROX-STEP."),
    Claim("NMP-APPROX-HP", "Sampled Nash-MP (m duels per action): with probability ≥ 1 − α, NMP-APPROX holds "
          "with δ = 2η/(1+ηβ)·√(log(2QnX/α)/(2m)) (plus the inner-loop δ)", "probability", "kl",
          _approx_bound(delta + DELTA_SAMPLED), (STEP_OK, PG_FROM_REF), ("nash-mp-sampled", "nash-mp-pg-sampled"),
          "D", SPEC,
          "Hoeffding per action and query, union bound over the Q·n·X estimates of the horizon: ‖ĝ − Pσ‖_∞ ≤ τ, "
          "so each step's span error is ≤ 2ητ/(1+ηβ); then NMP-APPROX on that event."),
    Claim("SAMPLED-STEP-ERR", "Sampled Nash-MP: with probability ≥ 1 − α every step's span error is ≤ "
          "2η/(1+ηβ)·√(log(2QnX/α)/(2m))", "probability", "step_err", (sp.Le(Step_err, DELTA_SAMPLED),), (),
          ("nash-mp-sampled",), "D", SPEC,
          "Hoeffding per estimate, union bound over the Q·n·X estimates; a step from ĝ differs from the exact one "
          "by η(ĝ − Pσ)/(1+ηβ) plus a constant in log space. Nearly tight per estimate: a claim with too few "
          "duels for its confidence fails here first."),
    Claim("INNER-ERR", "Inner loop: T natural-gradient steps leave a span error ≤ (1−λ)^T·2η/((1+ηβ)(1−(1−λ)^T))",
          "bound", "step_err", (sp.Le(Step_err, DELTA_INNER),), (sp.Eq(start_ref, 1),), ("nash-mp-pg",), "D", SPEC,
          "The inner update contracts log π − log π⁺ by (1−λ) in span; the start's span is ≤ 2η/(1+ηβ) + δ, "
          "which the proof derives from π_0 = π_ref (from logits (0, −50, 0) on rock-paper-scissors the first "
          "step's error is 4.43 > 3.33)."),
    Claim("INNER-ERR-HP", "Inner loop from sampled preferences: with probability ≥ 1 − α the span error is ≤ "
          "δ_T + 2η/(1+ηβ)·√(log(2QnX/α)/(2m))", "probability", "step_err",
          (sp.Le(Step_err, DELTA_INNER + DELTA_SAMPLED),), (sp.Eq(start_ref, 1),), ("nash-mp-pg-sampled",), "D", SPEC,
          "As INNER-ERR, plus the sampled field's error averaged by the inner contraction."),
]
# ---- end inexact

BUILTIN: list[Claim] = [
    Claim("NMP-KL-STEP", "Nash-MP contracts KL(π*‖π_k) by 1/(1+ηβ) per iteration", "step", "kl",
          (sp.Le(KL_next, KL * CONTRACT),), (STEP_OK,), ("nash-mp",), "D", SPEC,
          "Three-point inequalities of both proximal steps (1+ηβ-strongly convex relative to KL), the "
          "equilibrium inequality J_β(π*, π_{k+½}) ≥ ½, |⟨a, Ab⟩| ≤ ½‖a‖₁‖b‖₁ for Σb = 0, then Pinsker "
          "and AM-GM absorb the cross term when (η/2)² ≤ 1+ηβ. Largest step η̄ = 2(β + √(1+β²))."),
    Claim("NMP-KL", "Nash-MP: KL_k ≤ (1+ηβ)^(−k) KL_0; at η = 2, (1+2β)^(−N/2) KL_0", "bound", "kl",
          (sp.Le(KL, (1 + eta * beta) ** (-k) * KL0),), (STEP_OK,), ("nash-mp",), "A rate, D constant",
          f"{PAPER} for the rate; constant {SPEC}", "Iterate NMP-KL-STEP k times."),
    Claim("NMP-KL0", "KL(π*‖π_ref) ≤ (½ − P(π_ref ≻ π*))/β ≤ 1/(2β)", "static", "kl_ref_star",
          (sp.Le(KL_ref_star, (R(1, 2) - P_ref_star) / beta), sp.Le((R(1, 2) - P_ref_star) / beta, 1 / (2 * beta))),
          (), ("*",), "D", SPEC,
          "Identity β[KL(π‖ref) − KL(π*‖ref)] = β KL(π‖π*) + P(π ≻ π*) − ½ at π = π_ref, with KL(π_ref‖π*) ≥ 0 "
          "and P(π_ref ≻ π*) ≥ 0."),
    Claim("NMP-EXPL", "Nash-MP: Expl_β(π_k) = O((1+ηβ)^(−k)/β) (last iterate)", "rate", "exploitability",
          (sp.Le(Expl, C * (1 + eta * beta) ** (-k) / beta),), (STEP_OK,), ("nash-mp",),
          "A rate, S order", f"{PAPER}; order 1/β from a secondary summary; constant unknown",
          rate=CONTRACT, scale=1 / beta),
    Claim("EXPL-SANDWICH", "β KL(π‖π*) ≤ Expl_β(π) ≤ β KL(π‖π*) + ‖π − π*‖₁²/(8β)", "bound", "exploitability",
          (sp.Le(beta * KL_rev, Expl), sp.Le(Expl, beta * KL_rev + L1_sq / (8 * beta))), (), ("*",), "D", SPEC,
          "Per context; with several contexts the ρ-average of ‖π − π*‖₁² enters (not the square of the average). "
          "Lower: the identity above with the optimality of π*. Upper: Expl_β(π) − β KL(π‖π*) is the "
          "β-smoothed best-response gain, at most ‖Aδ‖²_∞/(2β) by strong convexity, with ‖Aδ‖_∞ ≤ ½‖δ‖₁."),
    Claim("NMP-SPAN", "Nash-MP: span(log π_k − log π*) decays linearly", "rate", "span",
          (sp.Le(Span, C * (1 + eta * beta) ** (-k / 2)),), (STEP_OK,), ("nash-mp",),
          "A rate, constant unknown",
          f"{PAPER}; the rate value (1+ηβ)^(−1/2) is proved in docs/proofs.md §6.2 from SPAN-STEP and the "
          "strengthened NMP-KL-STEP (which also bounds KL(π_{k+½}‖π*)); its constant from π_ref is NMP-SPAN-C",
          rate=CONTRACT ** R(1, 2)),
    Claim("NMP-SPAN-C", "Nash-MP from π_ref: span_k ≤ [1/β + √η/(β(√(1+ηβ) − 1))]·(1+ηβ)^(−k/2)", "bound", "span",
          (sp.Le(Span, (1 / beta + sp.sqrt(eta) / (beta * (sp.sqrt(1 + eta * beta) - 1))) * CONTRACT ** (k / 2)),),
          (STEP_OK, sp.Eq(start_ref, 1)), ("nash-mp",), "D", f"{SPEC} §6.2 (NMP-SPAN's rate with its constant)",
          "SPAN-STEP, the strengthened NMP-KL-STEP bound on KL(π_{k+½}‖π*), Pinsker; from π_ref, span_0 ≤ 1/β "
          "and KL_0 ≤ 1/(2β)."),
    Claim("SPAN-STEP", "span_{k+1} ≤ [span_k + η‖π_{k+½} − π*‖₁]/(1+ηβ)", "step", "span",
          (sp.Le(Span_next, (Span + eta * L1_half) * CONTRACT),), (), ("nash-mp",), "D", SPEC,
          "log π_{k+1} − log π* = [log π_k − log π* + ηP(π_{k+½} − π*)]/(1+ηβ) + c, and span(Pv) ≤ ‖v‖₁ "
          "when Σv = 0 (tight; the sharper ½‖v‖₁ holds only for the sup norm)."),
    Claim("NMP-KL-LOCAL", "Nash-MP's asymptotic KL rate is ρ_loc(η) ≤ 1/(1+ηβ), from the linearisation at π*",
          "rate", "kl", (sp.Le(KL, C * rho_loc**k),), (STEP_OK,), ("nash-mp",), "D",
          f"{SPEC} §3.4: global convergence (NMP-KL) and the linearised step T = [I + (ηB + η²B²)/c]/c",
          "Near π* the step is linear; in the Fisher metric its eigenvalues are [1 + (iημ − η²μ²)/c]/c over the "
          "singular values μ of D^½AD^½ on the tangent space; ρ_loc is the largest squared modulus.", rate=rho_loc),
    Claim("NMP-KL-BEYOND", "Beyond η̄: whenever ρ_loc < 1, Nash-MP converges from every start close enough to π* "
          "(local convergence only; not from π_ref in general)", "existence", "kl", (), (rho_loc < 1,),
          ("nash-mp",), "D",
          f"{SPEC} §3.4 (the linearised step is a contraction in the Fisher metric when ρ_loc < 1)",
          "Retired as a checkable claim: the former statement 'from π_ref, Nash-MP converges at rate ρ_loc whenever "
          "ρ_loc < 1' (E) is false. Counterexample (docs/verdicts.md): a random game at β = 1/100 with "
          "η ≈ 16.4 η̄ has ρ_loc < 1, yet from π_ref the iterates settle into a period-3 cycle."),
    Claim("NMP-CPLX", "Nash-MP reaches KL_k ≤ ε by k = ⌈log(KL_0/ε)/log(1+ηβ)⌉ (N = 2k queries)", "hitting", "kl",
          (sp.Le(K_eps, sp.Max(0, sp.ceiling(sp.log(KL0 / eps) / sp.log(1 + eta * beta)))),), (STEP_OK,), ("nash-mp",),
          "D from A", "derived from NMP-KL", "Solve (1+ηβ)^(−k) KL_0 ≤ ε for k."),
    Claim("NMP-UNREG", "Expl_0(π) ≤ Expl_β(π) + β log(1/min π_ref)", "bound", "exploitability_unreg",
          (sp.Le(Expl_0, Expl + beta * sp.log(1 / min_ref)),), (), ("*",), "D", SPEC,
          "For the best pure response y: P(y ≻ π) − ½ ≤ max_π' J_β(π', π) − ½ + β KL(δ_y‖ref) − β KL(π‖ref) "
          "≤ Expl_β(π) + β log(1/min π_ref)."),
    *APPROX_CLAIMS,
    Claim("NMP-DIM", "Nash-MP's rate and constant do not depend on the number of actions n", "dimension", "kl",
          (sp.Le(KL, (1 + eta * beta) ** (-k) * KL0),), (STEP_OK,), ("nash-mp",), "A", PAPER,
          "Checked over a family at n = 2, 4, …, 256: the normalised contraction must not grow with n.",
          rate=CONTRACT),
    # ---- baselines (spec §4)
    Claim("NMD-KL-STEP", "Nash-MD: KL_{t+1} ≤ (1 − η_tβ) KL_t + 2η_t²", "step", "kl",
          (sp.Le(KL_next, (1 - eta * beta) * KL + 2 * eta**2),), (sp.Le(eta * beta, 1),), ("nash-md",),
          "L", f"{MUNOS}, Theorem 1"),
    Claim("NMD-KL", "Nash-MD with η_t = 2/(β(t+2)): KL_T ≤ 8/(β²(T+1))", "bound", "kl",
          (sp.Le(KL, 8 / (beta**2 * (k + 1))),), (sp.Eq(sched, 1), sp.Eq(start_ref, 1)), ("nash-md",), "L",
          f"{MUNOS}, Theorem 1 (from π_0 = π_ref: at T = 0 the bound 8/β² is false in general)"),
    Claim("MMD-KL", "MMD: KL_t ≤ (1+ηβ)^(−t) KL_0 for η ≤ β/L² (L = ½)", "bound", "kl",
          (sp.Le(KL, (1 + eta * beta) ** (-k) * KL0),), (sp.Le(eta, 4 * beta),), ("mmd",), "L",
          "Sokota et al. 2022, arXiv 2206.05825 (rate recalled, not read verbatim)"),
    Claim("MMD-KL-STEP", "MMD contracts KL(π*‖π_t) by 1/(1+ηβ) per step for η ≤ β/L²", "step", "kl",
          (sp.Le(KL_next, KL * CONTRACT),), (sp.Le(eta, 4 * beta),), ("mmd",), "D",
          f"{SPEC} §5.3 (MMD is one Nash-MP half step); the rate is also Sokota et al. 2022, arXiv 2206.05825 "
          "(recalled, not read verbatim)"),
    Claim("EG-KL", "Extragradient (EGPO): KL_t ≤ (1 − η_eβ)^t KL_0 for η_e ≤ 1/(β+1)", "bound", "kl",
          (sp.Le(KL, (1 - eta * beta) ** k * KL0),), (sp.Le(eta, 1 / (beta + 1)),), ("extragradient",), "L",
          "Zhou et al. 2025, arXiv 2503.08942; Cen et al. 2021 (constants recalled, not read verbatim)"),
    Claim("PROX-KL-STEP", "Exact proximal point contracts KL(π*‖π_k) by 1/(1+ηβ) for every η > 0", "step", "kl",
          (sp.Le(KL_next, KL * CONTRACT),), (), ("proximal-point",), "D", SPEC,
          "Three-point inequality of the implicit step with u = π*, and J_β(π*, π_{k+1}) ≥ ½."),
]
