# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2 · Nash-MP against its baselines
#
# The standard matrix-game comparison protocol, as specified for this project (the paper's own experiment
# settings could not be read), run on exact games:
#
# * **Games.** Seeded random 10-action preference matrices: upper triangle uniform on $[0,1]$ (drawn as
#   exact rationals $k/10^6$), lower triangle its complement $1 - P_{ij}$, diagonal ½, so that
#   $P + P^\top = 1$ holds exactly and the game validates. Reference logits drawn $\mathcal N(0,1)$;
#   $\exp$ of each is rounded to a rational ($k/10^9$) and the vector is normalised **exactly**.
#   Five seeds. Then the same protocol on an adversarial 0/1 cyclic game with a skewed reference,
#   `cyclic:n=7,skew=1/4`.
# * **Regularisation** $\beta \in \{0.001, 0.01, 0.1\}$.
# * **Metric.** The regularized duality gap $= 2\,\mathrm{Expl}_\beta(\pi_k)$ of the *last* iterate, against
#   the number of **preference queries** (one query = one product $P\sigma$), so methods with two queries
#   per iteration pay for both.
# * **Steps: each method at the largest step its own theory allows.**
#
# | method | step | claim it comes from |
# |---|---|---|
# | Nash-MP | $\eta$ just below $\bar\eta(\beta) = 2(\beta+\sqrt{1+\beta^2})$ (`eta_bar_below(beta, 4)`: 4 decimals, exactly admissible) | NMP-KL-STEP **[D]** |
# | MMD | $\eta = 4\beta = \beta/L^2$, $L = ½$ | MMD-KL **[L]** (Sokota et al. 2022, recalled) |
# | Extragradient (EGPO) | $\eta_e = 1/(\beta+1)$, its own normalisation | EG-KL **[L]** (Zhou et al. 2025; Cen et al. 2021, recalled) |
# | Nash-MD | schedule $\eta_t = 2/(\beta(t+2))$ (`eta=None`) | NMD-KL **[L]** (Munos et al. 2023, Thm 1) |
# | Online mirror descent | $\eta = ½$ (our choice; nashproof's default $\min(½, 1/\beta)$) | **none**: no last-iterate guarantee (its *average* iterate converges at $O(1/\sqrt T)$, **L**); a negative control |
#
# Note that EGPO at its largest step is *exactly* Nash-MP with $\eta = \eta_e/(1-\eta_e\beta) = 1$,
# i.e. about half of Nash-MP's $\bar\eta$.
#
# **Precision.** The curves use the **float64 backend**: the gap is only plotted down to $10^{-13}$,
# where float64 rounding of $\mathrm{Expl}_\beta$ (a difference of $O(1)$ terms) starts to dominate;
# no verdict rests on them. The gap needs no $\pi^*_\beta$:
# $\mathrm{Expl}_\beta(\pi) = \beta\log\sum_y \pi_{\mathrm{ref}}(y)e^{P(y\succ\pi)/\beta} + \beta\,\mathrm{KL}(\pi\|\pi_{\mathrm{ref}}) - ½$
# is computed from $\pi$ alone (spec §5). The claim verdicts in §4 use the 30-digit mpmath backend with precision
# doubling.

# %%
import time
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np

from nashproof import builtin_catalogue, check_claim, collect, load_game, make_backend, make_solver, run
from nashproof.games import single
from nashproof.metrics import exploitability
from nashproof.numbers import fraction_str
from nashproof.numeric import NumericGame
from nashproof.plots import plot_run
from nashproof.report import table
from nashproof.verify import eta_bar_below

# %matplotlib inline
# %config InlineBackend.figure_formats = ["png"]
plt.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "font.size": 9})
T0 = time.perf_counter()

BETAS = [Fraction(1, 1000), Fraction(1, 100), Fraction(1, 10)]
METHODS = ["nash-mp", "mmd", "extragradient", "nash-md", "omd"]
COLORS = dict(zip(METHODS, ["C0", "C1", "C2", "C3", "C7"]))
FLOOR = 1e-13  # float64 floor of the gap
FB = make_backend("float")


def step_of(method, beta):
    """The largest step each method's theory allows (None: Nash-MD's schedule)."""
    return {"nash-mp": eta_bar_below(beta, 4), "mmd": 4 * beta, "extragradient": 1 / (beta + 1),
            "nash-md": None, "omd": Fraction(1, 2)}[method]


def random_game(seed, n=10, den=10**6):
    rng = np.random.default_rng(seed)
    P = [[Fraction(1, 2)] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            p = Fraction(int(rng.integers(0, den + 1)), den)  # uniform on [0, 1], exact
            P[i][j], P[j][i] = p, 1 - p
    weights = [Fraction(max(1, round(float(np.exp(z)) * 10**9)), 10**9) for z in rng.standard_normal(n)]
    total = sum(weights)
    return single(P, [w / total for w in weights], label=f"random n=10 seed {seed}")


def gap_curve(game, method, beta, budget, points=400):
    """(queries, gap) of the last iterate in float64, at <= `points` evenly spaced iterates, clipped at FLOOR."""
    solver = make_solver(method, beta, step_of(method, beta))
    steps = budget // solver.queries_per_step
    traj = run(game, solver, steps, FB)
    ng = NumericGame(game, FB)
    b = FB.scalar(beta)
    idx = np.unique(np.linspace(0, steps, points).astype(int))
    # gap = 2·Expl_β(π): computed from π alone (spec §5), no π* needed
    gaps = np.array([2 * float(ng.average([exploitability(ng, c, traj.policies[i][c], b) for c in range(ng.k)]))
                     for i in idx])
    return np.array([traj.queries[i] for i in idx], dtype=float), np.maximum(gaps, FLOOR)


def draw(ax, curves_for, beta, title):
    """Median (line) and range over games (band) per method, and the two claimed-rate guides (dashed)."""
    for method in METHODS:
        queries, gaps = curves_for[beta, method]
        med = np.median(gaps, axis=0)
        eta = step_of(method, beta)
        label = f"{method} (η = {fraction_str(eta) if eta is not None else '2/(β(t+2))'})"
        if method == "nash-mp":
            label = f"nash-mp (η = {float(eta):.4f} ≈ η̄)"
        ax.plot(queries, np.where(med > FLOOR, med, np.nan), color=COLORS[method], lw=1.5, label=label)
        if len(gaps) > 1:
            ax.fill_between(queries, gaps.min(axis=0), gaps.max(axis=0), color=COLORS[method], alpha=0.15, lw=0)
    g0 = float(np.median(curves_for[beta, "nash-mp"][1][:, 0]))  # every method starts at π_ref
    n = np.linspace(0, queries[-1], 200)
    rate_mp = (1 + float(step_of("nash-mp", beta) * beta)) ** (-n / 2)
    rate_mmd = (1 + 4 * float(beta) ** 2) ** (-n)
    ax.plot(n, g0 * rate_mp, "--", color=COLORS["nash-mp"], lw=1, label="Nash-MP claimed rate (guide)")
    ax.plot(n, g0 * rate_mmd, "--", color=COLORS["mmd"], lw=1, label="MMD claimed rate (guide)")
    ax.set_yscale("log")
    ax.set_ylim(FLOOR / 3, 3)
    ax.set_xlabel("preference queries N")
    ax.set_ylabel("duality gap 2·Expl_β(π_N)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)


CLAIMED = {  # per-query rate each claim guarantees for KL
    "nash-mp": lambda b: 0.5 * np.log1p(float(step_of("nash-mp", b) * b)),
    "mmd": lambda b: np.log1p(4 * float(b) ** 2),
    "extragradient": lambda b: -0.5 * np.log1p(-float(b / (b + 1))),
}


def summary(curves_for):
    rows = []
    for beta in BETAS:
        for method in METHODS:
            queries, gaps = curves_for[beta, method]
            med = np.median(gaps, axis=0)
            hit = np.flatnonzero(med <= 1e-6)
            window = np.flatnonzero((med <= 1e-2) & (med >= 1e-10))
            fitted = -np.polyfit(queries[window], np.log(med[window]), 1)[0] if len(window) >= 3 else None
            claimed = CLAIMED[method](beta) if method in CLAIMED else None
            rows.append([
                fraction_str(beta), method, str(int(queries[hit[0]])) if len(hit) else "—",
                "-" if fitted is None else f"{fitted:.2e}", "-" if claimed is None else f"{claimed:.2e}",
                f"{fitted / claimed:.2f}" if fitted is not None and claimed is not None else "-",
            ])
    return table(["β", "method", "queries to gap ≤ 1e-6", "observed rate / query", "claimed KL rate / query",
                  "observed / claimed"], rows)


# %% [markdown]
# ## 1. Random 10-action games
#
# Five seeds; budgets of $10^4$, $10^4$ and $10^3$ queries per method at $\beta = 0.001, 0.01, 0.1$
# (enough for the fast methods to reach the floor). One line per method is the median gap over the five games,
# the shaded band the range (gaps below the float64 floor $10^{-13}$ are clipped to it before the order
# statistics are taken, and a median on the floor is not drawn). Dashed lines are **rate guides, not bounds**:
# the per-query rate each claim gives for KL, drawn through the initial gap: $G_0\,(1+\bar\eta\beta)^{-N/2}$ for
# Nash-MP (NMP-KL, **[A rate, D constant]**) and $G_0\,(1+4\beta^2)^{-N}$ for MMD (MMD-KL, **[L]**). The gap
# has no explicit bound in the catalogue (NMP-EXPL **[A rate, S order]** has an unknown constant), so the
# guides show slopes only.

# %%
SEEDS = range(5)
BUDGET = {BETAS[0]: 10_000, BETAS[1]: 10_000, BETAS[2]: 1_000}
games = [random_game(s) for s in SEEDS]
print(games[0].label, "π_ref ≈", [round(float(r), 3) for r in games[0].contexts[0].reference])
curves = {}  # (beta, method) -> (queries, gaps[game, point])
for beta in BETAS:
    for method in METHODS:
        runs = [gap_curve(g, method, beta, BUDGET[beta]) for g in games]
        curves[beta, method] = (runs[0][0], np.vstack([r[1] for r in runs]))
print(f"{len(curves) * len(games)} runs in {time.perf_counter() - T0:.1f} s")

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
for ax, beta in zip(axes, BETAS):
    draw(ax, curves, beta, f"random 10-action games (5 seeds), β = {fraction_str(beta)}")
axes[0].legend(fontsize=7, loc="lower left")
fig.tight_layout()

# %% [markdown]
# To compare with the claims, the table gives (a) the median number of queries to bring the gap below
# $10^{-6}$ (`—`: not within the budget), and (b) the observed per-query decay rate
# $-\Delta\log(\text{gap})/\Delta N$, fitted on the median curve where it lies between $10^{-2}$ and
# $10^{-10}$, next to the per-query rate each method's claim guarantees for KL: Nash-MP
# $\tfrac12\log(1+\bar\eta\beta)$, MMD $\log(1+4\beta^2)$, extragradient $-\tfrac12\log(1-\eta_e\beta)$.
# Nash-MD (schedule; claimed $O(1/t)$) and OMD (no claim) have no geometric rate to compare with.

# %%
print(summary(curves))

# %% [markdown]
# **What the curves show (random games).** Nash-MP and EGPO converge linearly in the last iterate at every
# $\beta$, with an observed tail rate per query that scales like $\beta$, i.e. $O(1/\beta)$ queries per
# $e$-fold, as the abstract claims for Nash-MP **[A]**. The observed rates sit roughly a factor 2 above the
# claimed KL rates, for every geometric method. An empirical reading **[E]**, not a proven statement: the
# claims bound the contraction of KL, but near $\pi^*$ the gap and KL are both quadratic in the distance to
# $\pi^*$, so if the distance itself contracts at the claimed factor, KL and the gap contract at its square.
# EGPO at its largest claimed step is Nash-MP at $\eta = 1$ and needs about twice Nash-MP's queries at
# $\bar\eta \approx 2$. MMD at the step its claim allows, $\eta = 4\beta$, shows the $1/\beta^2$ dependence:
# its observed rate falls like $\beta^2$, and at $\beta = 0.001$ (step $0.004$, guaranteed rate
# $4\cdot10^{-6}$ per query) its gap hardly moves within $10^4$ queries. Nash-MD's $1/t$ schedule starts with
# the huge step $\eta_0 = 1/\beta$ and then decays sublinearly. OMD at a fixed step has no last-iterate
# guarantee: at $\beta = 0.1$ it happens to converge about as fast as EGPO, at $\beta = 0.01$ it converges on
# some seeds and not on others (the wide band), and at $\beta = 0.001$ it does not converge within the budget.
#
# ## 2. An adversarial game: `cyclic:n=7,skew=1/4`
#
# A 0/1 cyclic tournament (each action beats the next three) with $\pi_{\mathrm{ref}} \propto 4^{-i}$. The
# unregularized game's equilibrium is the uniform policy, against which every action is equally good, and the
# regularized equilibrium is pulled far from it by the skewed reference; such games push the contraction
# close to its bound (spec §6; §4 below measures it). Same methods and steps; budgets of $2\cdot10^4$,
# $2\cdot10^4$ and $10^3$ queries; one game, so no band.

# %%
cyc = load_game("cyclic:n=7,skew=1/4")
CYC_BUDGET = {BETAS[0]: 20_000, BETAS[1]: 20_000, BETAS[2]: 1_000}
cyc_curves = {}
for beta in BETAS:
    for method in METHODS:
        q, g = gap_curve(cyc, method, beta, CYC_BUDGET[beta])
        cyc_curves[beta, method] = (q, g[np.newaxis, :])

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
for ax, beta in zip(axes, BETAS):
    draw(ax, cyc_curves, beta, f"cyclic:n=7,skew=1/4, β = {fraction_str(beta)}")
axes[0].legend(fontsize=7, loc="lower left")
fig.tight_layout()
print(summary(cyc_curves))

# %% [markdown]
# **What the curves show (adversarial game).** The same picture, harder. Nash-MP's observed rate still scales
# like $\beta$ and beats its claimed rate (most at $\beta = 0.001$); MMD's is orders of magnitude lower at
# $\beta \le 0.01$, as its $4\beta^2$ guarantee predicts: the $1/\beta$ versus $1/\beta^2$ separation the
# paper's abstract advertises **[A]**, against MMD's recalled rate **[L]**. At $\beta = 0.1$ the two guarantees
# are within a factor 2.5 ($4\beta^2 = 0.04$ per query against $\approx 0.1$), and the observed rates differ
# by a similar factor (about 3). Nash-MD
# decays slowly, and OMD does not converge at $\beta \le 0.01$.
#
# ## 3. KL with each method's claimed bound (exact arithmetic)
#
# The gap has no explicit bound in the catalogue, but KL does. `plot_run` (30 digits, precision doubling)
# draws each method's observed $\mathrm{KL}(\pi^*\|\pi_k)$ against queries and its **bound** claim as a
# dashed envelope: NMP-KL **[A rate, D constant]**, MMD-KL **[L]**, EG-KL **[L]**, NMD-KL **[L]**. The
# adversarial game at $\beta = 1/10$, 100 iterations per method (so 200 queries for the two-query methods).

# %%
beta = Fraction(1, 10)
solvers = [make_solver(m, beta, step_of(m, beta)) for m in ("nash-mp", "mmd", "extragradient", "nash-md")]
fig = plot_run(cyc, solvers, 100, metric="kl", x="queries", digits=30,
               title="cyclic:n=7,skew=1/4, β = 1/10: KL (solid) and each claim's bound (dashed), 100 iterations")

# %% [markdown]
# No observation crosses its bound (violations would be red crosses). MMD's observed KL runs close under its
# envelope; Nash-MP's and EGPO's fall well below theirs; Nash-MD's bound starts at $8/\beta^2 = 800$, far above
# $\mathrm{KL}_0$, and stays orders of magnitude above the observation.
#
# ## 4. Verdicts and tightness on the adversarial game
#
# Every applicable *bound* and *one-step* claim of each method, checked at 30 (+15) digits on 300 iterations
# of the adversarial game at $\beta = 1/100$. `worst ratio` is the largest lhs/rhs over the run: for the
# one-step claims it measures how close the game comes to the worst case (for the iterated bounds it is 1 by
# construction at $k = 0$). OMD has no convergence claim, so it has no row.

# %%
beta = Fraction(1, 100)
catalogue = builtin_catalogue()
rows = []
for method in METHODS:
    solver = make_solver(method, beta, step_of(method, beta))
    data = collect(cyc, solver, 300, digits=30)
    for claim in catalogue:
        if claim.kind in ("bound", "step") and claim.applies_to(method) and claim.metric == "kl":
            v = check_claim(claim, data)
            rows.append([method, v.claim, v.provenance, v.kind, v.status, v.tightness or "-", v.evaluated])
print("cyclic:n=7,skew=1/4, β = 1/100, 300 iterations")
print(table(["method", "claim", "provenance", "kind", "verdict", "worst ratio", "evaluated"], rows))

# %% [markdown]
# All the KL claims hold on this run, and the one-step claims are nearly tight: some step of Nash-MP comes
# within about 0.98 of the contraction NMP-KL-STEP **[D]** allows, and some step of MMD within about 0.9998
# of MMD-KL-STEP **[L]**, so neither per-step factor can be improved much on this game (even though, as §2
# shows, the tail then decays faster). Nash-MD's $8/(\beta^2(T+1))$ **[L]** is loose by orders of magnitude,
# as the spec warns (spec §7). A pass is evidence on one run, not a proof.

# %%
print(f"notebook ran in {time.perf_counter() - T0:.1f} s")
