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
# # 4 · Audit walkthrough: is this implementation really Nash-MP?
#
# `nashproof audit` takes someone's update rule, `update(pi, P, ref, beta, eta) -> pi_next` on one context
# (numpy float64 in and out), and a declaration ("this is `nash-mp` with $\eta = 2$"). It then
#
# 1. runs the candidate in a **separate worker process** (a hard time limit that kills it, a memory limit, a
#    temporary directory: `sys.exit` or a hang in the candidate cannot decide the audit) and **validates**
#    every output (shape, dtype, NaN, negative or zero entries, sum, exceptions, time);
# 2. checks **conformance**: from the same $\pi_k$, the candidate's $\pi_{k+1}$ is compared with the declared
#    map computed in 40-digit arithmetic, on a battery of six games (all with a skewed $\pi_{\mathrm{ref}}$),
#    two values of $\beta$ (1/20 and 1/2) and several starting points: $\pi_{\mathrm{ref}}$, uniform, random,
#    near a vertex, and points along the candidate's own trajectory. The tolerance is derived from float64
#    rounding, $64\,n\,u\,S$ with $u = 2^{-52}$ ($2^{-23}$ for float32 outputs) and $S$ the size of the
#    logits, not a magic constant;
# 3. **identifies** which known rule (Nash-MP ≡ extragradient, MMD ≡ OMD, Nash-MD, proximal point,
#    multiplicative weights), with which fitted step, explains the observed steps, and tests named
#    diagnoses (π_ref ignored, mixture weight decoupled from the step, a policy-gradient step, float32
#    rounding). At a fixed β, extragradient at $\eta_e$ *is* Nash-MP at $\eta_e/(1-\eta_e\beta)$ and OMD at
#    $\eta$ *is* MMD at $\eta/(1-\eta\beta)$ **[D]**, so rules are reported as classes;
# 4. runs the checker's **claims** on the candidate's own trajectory (CLI only; the API exposes
#    `claims_on_trajectory`).
#
# The declared map is the closed form of spec §2 (both Nash-MP steps centred at $\pi_k$, derived **[D]**);
# the claims carry their own provenance tags in the tables below.
#
# We write two wrong implementations and one correct one to a temporary folder and audit each.

# %%
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from nashproof import load_game, make_solver
from nashproof.audit import ReferenceMap, audit_update, claims_on_trajectory, load_update, tolerance
from nashproof.report import table

# %matplotlib inline
# %config InlineBackend.figure_formats = ["png"]
plt.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "font.size": 9})
T0 = time.perf_counter()
WORK = Path(tempfile.mkdtemp(prefix="nashproof-audit-"))


def write(name, source):
    path = WORK / name
    path.write_text(source)
    return path


# %% [markdown]
# ## 1. A plausible slip: the full step anchored at $\pi_{\mathrm{ref}}$
#
# Both Nash-MP steps are proximal steps *centred at $\pi_k$*. Writing the second one around $\pi_{\mathrm{ref}}$
# looks harmless, since $\pi_{\mathrm{ref}}$ appears in both steps anyway, and a unit test that checks one step
# from $\pi_0 = \pi_{\mathrm{ref}}$ cannot see it: there the two are the same map.

# %%
ANCHORED = """\
import numpy as np


def prox(centre, ref, field, beta, eta):
    z = (np.log(centre) + eta * beta * np.log(ref) + eta * field) / (1 + eta * beta)
    w = np.exp(z - z.max())
    return w / w.sum()


def update(pi, P, ref, beta, eta):
    half = prox(pi, ref, P @ pi, beta, eta)
    return prox(ref, ref, P @ half, beta, eta)  # BUG: the full step must be centred at pi too
"""
anchored = write("anchored.py", ANCHORED)
print(anchored.read_text())

# %%
# The naive one-step test, on the battery's first game: from π_ref the bug is invisible.
game = load_game("cyclic:n=5,skew=1/3")
ctx = game.contexts[0]
beta, eta = Fraction(1, 20), Fraction(2)
P = np.array([[float(p) for p in row] for row in ctx.preference])
ref = np.array([float(r) for r in ctx.reference])
exact = ReferenceMap(ctx, make_solver("nash-mp", beta, eta))  # Nash-MP's map in 40-digit arithmetic
fn = load_update(f"{anchored}:update")
rows = []
naive = [("π_ref", ref), ("uniform", np.full(5, 0.2)), ("(0.1, 0.1, 0.1, 0.1, 0.6)", np.array([0.1] * 4 + [0.6]))]
for label, start in naive:
    out = fn(start.copy(), P, ref, float(beta), float(eta))
    err = float(np.max(np.abs(np.log(out) - exact.exact(start))))
    tol = tolerance(start, ref, float(beta), float(eta), 5)
    rows.append([label, f"{err:.2e}", f"{tol:.2e}", "ok" if err <= tol else "DEPARTS"])
print(table(["start π_k", "max |log ratio| vs Nash-MP", "tolerance 64·n·u·S", ""], rows))


# %% [markdown]
# Now the full audit through the command line, as a user would run it:
# `nashproof audit --solver anchored.py:update --declared nash-mp --eta 2 --json` (here via
# `python -m nashproof.cli`, so that the notebook's own interpreter is used).

# %%
def audit_cli(path, declared="nash-mp", eta="2"):
    cmd = [sys.executable, "-m", "nashproof.cli", "audit", "--solver", f"{path}:update",
           "--declared", declared, "--eta", eta, "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, json.loads(proc.stdout)


code_a, rep_a = audit_cli(anchored)
print(f"exit code {code_a}; consistent = {rep_a['consistent']}; {rep_a['checked_steps']} steps compared; "
      f"worst error/tolerance {rep_a['worst_error_over_tolerance']:.3g}")
first = rep_a["first_departure"]
print("first departure:", json.dumps(first, ensure_ascii=False, indent=1))
failed = [f for f in rep_a["findings"] if f["failed"]]
print("failing findings by kind:", dict(Counter(f["kind"] for f in failed)))
by_start = Counter(f.get("start", "-") for f in failed if f["kind"] == "conformance")
print("conformance failures by starting point:", dict(by_start))

# %% [markdown]
# The audit flags it (exit code 1). The first departure is one step along its own trajectory on the
# adversarial cyclic game (the first call from $\pi_{\mathrm{ref}}$ itself is exactly right), and the failures
# by starting point show none from $\pi_{\mathrm{ref}}$: exactly the blind spot of a one-step test from $\pi_0$.
#
# **What is it, then?** The identification fits the step of every known rule (and each named diagnosis) to the
# observed steps, per β, and ranks them by the worst error/tolerance at the fitted step; a hypothesis
# "explains" the steps only if that ratio is at most 4 (the fit itself costs a little accuracy).

# %%
ident = rep_a["identification"]
print(f"explains the steps: {ident['explains']}")
print(table(["hypothesis", "fitted step", "worst error / tolerance"],
            [[r["rule"], r["eta"], f"{r['worst_error_over_tolerance']:.3g}"] for r in ident["ranking"][:8]]))
print()
print("claims on its own trajectory (β = 1/20):")
print(table(["claim", "provenance", "verdict", "game", "first k"],
            [[c["claim"], c["provenance"], c["status"], c["game"], str(c.get("first_k", "-"))]
             for c in rep_a["claims"]]))

# %% [markdown]
# No known rule or diagnosis explains these steps (every worst error is many orders of magnitude above the
# tolerance), and the identification says so rather than forcing a name: the anchored rule is genuinely a
# different algorithm.
# Its own trajectory also violates Nash-MP's contraction claims NMP-KL-STEP **[D]** and NMP-KL
# **[A rate, D constant]** within a few iterations, and its tail rate is slower than NMP-EXPL's and NMP-SPAN's
# claimed rates **[A rate]**: the bug costs convergence, not just conformance.
#
# ## 2. A silent one: the step halved
#
# A unit conversion gone wrong (say, a factor ½ from a different normalisation) gives a method that still
# converges, still satisfies every bound on these games, and is simply *slower*. This time we use the Python
# API: `load_update`, `audit_update`, and `claims_on_trajectory`.

# %%
HALVED = """\
import numpy as np


def update(pi, P, ref, beta, eta):
    eta = eta / 2  # a normalisation slip: the caller's eta is already the canonical one

    def prox(opponent):
        z = (np.log(pi) + eta * beta * np.log(ref) + eta * (P @ opponent)) / (1 + eta * beta)
        w = np.exp(z - z.max())
        return w / w.sum()

    return prox(prox(pi))
"""
halved = write("halved.py", HALVED)
fn_h = load_update(f"{halved}:update")
rep_h = audit_update(fn_h, "nash-mp", Fraction(2), source=str(halved.name))
rep_h.claims = claims_on_trajectory(fn_h, "nash-mp", Fraction(2), Fraction(1, 20), "cyclic:n=5,skew=1/3")
d = rep_h.as_dict()
print(f"consistent = {d['consistent']} (exit code {d['exit_code']}); "
      f"worst error/tolerance {d['worst_error_over_tolerance']:.3g}")
print("first departure:", d["first_departure"]["message"], "|", d["first_departure"]["game"],
      "from", d["first_departure"]["start"], "β =", d["first_departure"]["beta"])
print("identified:", next(f.message for f in rep_h.findings if f.kind == "identification"))
print(table(["hypothesis", "fitted step", "worst error / tolerance"],
            [[r, e, f"{x:.3g}"] for r, e, x in rep_h.identification.ranking[:3]]))
print()
print(table(["claim", "provenance", "verdict on its own trajectory"],
            [[v.claim, v.provenance, v.status] for v in rep_h.claims]))

# %% [markdown]
# The identification names it exactly, *Nash-MP with $\eta = 1$* (the same map as extragradient at the
# $\eta_e$ shown), within float64 rounding, so the declaration ($\eta = 2$) is wrong and the audit says by how much. And note the claims table:
# **every claim passes on its trajectory**. The convergence claims are upper bounds; halving the step slows the
# method, but on these games not beyond the $\eta = 2$ worst-case envelope. Only the conformance check
# (same $\pi_k$, compare $\pi_{k+1}$) catches it. Checking claims alone is not an audit.
#
# ## 3. A correct implementation in a different style
#
# Products of powers instead of logits, and the secondary-source normalisation $\gamma = \eta\beta$ **[S]**:
# $\pi_{k+1/2} \propto \pi_k^{1/(1+\gamma)}\,\pi_{\mathrm{ref}}^{\gamma/(1+\gamma)}\exp\big(\tfrac{\gamma}{\beta(1+\gamma)} P\pi_k\big)$,
# and the same with $P\pi_{k+1/2}$ for the full step. It must pass.

# %%
POWERS = """\
import numpy as np


def update(pi, P, ref, beta, eta):
    gamma = eta * beta          # γ = ηβ
    a = 1.0 / (1.0 + gamma)     # weight of the centre π_k

    def prox(opponent):
        field = (P @ opponent) * (a * gamma / beta)
        w = pi**a * ref ** (1.0 - a) * np.exp(field - field.max())
        return w / w.sum()

    return prox(prox(pi))
"""
powers = write("powers.py", POWERS)
code_p, rep_p = audit_cli(powers)
print(f"exit code {code_p}; consistent = {rep_p['consistent']}; {rep_p['checked_steps']} steps compared; "
      f"worst error/tolerance {rep_p['worst_error_over_tolerance']:.3g}")
print("identification:", rep_p["identification"]["summary"])
print(table(["claim", "provenance", "verdict", "game"],
            [[c["claim"], c["provenance"], c["status"], c["game"]] for c in rep_p["claims"]]))

# %% [markdown]
# Consistent (exit 0): its worst error is a small fraction of the float64 tolerance, the identification finds
# Nash-MP with $\eta = 2$, and the claims hold on its trajectory.
#
# ## 4. Error against tolerance, start by start
#
# The same comparison as the audit's conformance step, drawn: for each implementation, the error of one step
# relative to the tolerance, from a range of starting points on `cyclic:n=5,skew=1/3` at $\beta = 1/20$
# (log scale; values are clipped at $10^{-4}$ for display). Points above the dashed line depart from Nash-MP.

# %%
rng = np.random.default_rng(7)
starts = [("π_ref", ref), ("uniform", np.full(5, 0.2))]
starts += [(f"random {i}", rng.dirichlet(np.ones(5))) for i in range(4)]
starts += [("near a vertex", np.array([0.005] * 4 + [0.98]))]
pi = ref.copy()
for k in range(1, 9):  # along Nash-MP's own trajectory
    pi = np.exp(exact.exact(pi))
    pi = pi / pi.sum()
    if k in (1, 4, 8):
        starts.append((f"Nash-MP iterate {k}", pi.copy()))
impls = {"anchored at π_ref (wrong)": load_update(f"{anchored}:update"), "step halved (wrong)": fn_h,
         "powers, γ form (correct)": load_update(f"{powers}:update")}
fig, ax = plt.subplots(figsize=(8, 4.4))
for (name, f), marker in zip(impls.items(), "oxs"):
    ratios = []
    for _, start in starts:
        out = f(start.copy(), P, ref, float(beta), float(eta))
        err = float(np.max(np.abs(np.log(out) - exact.exact(start))))
        ratios.append(max(err / tolerance(start, ref, float(beta), float(eta), 5), 1e-4))
    ax.plot(range(len(starts)), ratios, marker, ms=7, mfc="none" if marker != "x" else None, label=name)
ax.axhline(1.0, ls="--", color="k", lw=1, label="tolerance 64·n·u·S (derived)")
ax.set_yscale("log")
ax.set_xticks(range(len(starts)), [s[0] for s in starts], rotation=35, ha="right")
ax.set_xlabel("starting policy π_k")
ax.set_ylabel("one-step error / tolerance")
ax.set_title("cyclic:n=5,skew=1/3, β = 1/20, declared nash-mp η = 2")
ax.grid(True, which="major", alpha=0.3)
ax.legend(fontsize=8, loc="center right")
fig.tight_layout()

# %% [markdown]
# The anchored implementation is *exactly* right at $\pi_{\mathrm{ref}}$ and wrong everywhere else; the halved
# step is wrong everywhere; the correct one stays orders of magnitude below the tolerance.
#
# ## 5. A class-based learner, in its own step form
#
# Real code rarely has our signature. Here is a learner in the style of the MMD authors' normal-form code: a
# class holding its policy and a magnet, with `update(payoffs)`, and a four-line adapter. Its step is the pair
# (lr, temp) of MMD; `--eta lr=1/5,temp=1/20` declares it in those terms (temp is β, and the candidate receives
# lr), and `--eta auto` fits the step of an adapter that ignores the audit's η (a hard-coded lr) and reports
# it in every form, saying which form is constant across β. At one β, MMD at $\eta$ and OMD at
# $\eta/(1+\eta\beta)$ are the same map, so both declarations pass. The second adapter never sets the magnet
# (it stays uniform, as in a port that forgets $\pi_{\mathrm{ref}}$): flagged, with the diagnosis named.

# %%
LEARNER = """\
import numpy as np


class MagneticLearner:
    def __init__(self, n, lr, temp, magnet=None):
        self.lr, self.temp = lr, temp
        self.magnet = np.full(n, 1.0 / n) if magnet is None else np.asarray(magnet)
        self.policy = np.full(n, 1.0 / n)

    def update(self, payoffs):
        z = np.log(self.policy) + self.lr * self.temp * np.log(self.magnet) + self.lr * payoffs
        z = z / (1 + self.lr * self.temp)
        w = np.exp(z - z.max())
        self.policy = w / w.sum()
        return self.policy


def update(pi, P, ref, beta, eta):
    learner = MagneticLearner(len(pi), lr=eta, temp=beta, magnet=ref)
    learner.policy = pi
    return learner.update(P @ pi)


def forgot_magnet(pi, P, ref, beta, eta):
    learner = MagneticLearner(len(pi), lr=eta, temp=beta)
    learner.policy = pi
    return learner.update(P @ pi)


def own_lr(pi, P, ref, beta, eta):  # a hard-coded learning rate: the audit's eta is ignored
    learner = MagneticLearner(len(pi), lr=0.3, temp=beta, magnet=ref)
    learner.policy = pi
    return learner.update(P @ pi)
"""
learner = write("learner.py", LEARNER)


def audit_args(*args):
    cmd = [sys.executable, "-m", "nashproof.cli", "audit", *args, "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, json.loads(proc.stdout)


rows = []
for target, declared, step in [("update", "mmd", "lr=1/5,temp=1/20"), ("update", "omd", "lr=1/5,temp=1/20"),
                               ("own_lr", "mmd", "auto"), ("forgot_magnet", "mmd", "lr=1/5,temp=1/20")]:
    code_l, rep_l = audit_args("--solver", f"{learner}:{target}", "--declared", declared, "--eta", step)
    said = next((f["message"] for f in rep_l["findings"] if f["kind"] == "identification"), "-")
    rows.append([target, declared, step, rep_l["verdict"], str(code_l),
                 (rep_l["fitted_step"] or "-").split(";")[0]])
    print(f"{target} as {declared} ({step}): {said}")
print()
print(table(["adapter", "declared", "step form", "verdict", "exit", "fitted step (auto)"], rows))

# %% [markdown]
# ## Summary

# %%
rows = [
    ["anchored at π_ref", "FLAGGED" if not rep_a["consistent"] else "consistent",
     f"{rep_a['first_departure']['game']} from {rep_a['first_departure']['start']}",
     rep_a["identification"]["rule"]
     + (" (explains)" if rep_a["identification"]["explains"] else " (closest; explains nothing)")],
    ["step halved", "FLAGGED" if not rep_h.consistent else "consistent",
     f"{d['first_departure']['game']} from {d['first_departure']['start']}",
     f"{rep_h.identification.rule} with η = {rep_h.identification.eta}"],
    ["powers, γ form", "FLAGGED" if not rep_p["consistent"] else "consistent", "-",
     f"{rep_p['identification']['rule']} with η = {rep_p['identification']['eta']}"],
]
print(table(["implementation", "audit", "first departure", "identified as"], rows))
shutil.rmtree(WORK)  # the temporary implementations
print(f"\nnotebook ran in {time.perf_counter() - T0:.1f} s")
