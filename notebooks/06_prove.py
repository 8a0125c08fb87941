# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · Proofs over whole regions: `nashproof prove`
#
# `nashproof check` decides a claim at the points a run visits. `nashproof prove` decides a
# for-every-π claim on a whole box of policies: π = softmax(z, 0) with free logits z in [−L, L]^(n−1).
# Each box's margin (rhs − lhs) is enclosed in ball arithmetic by a centred form built from
# forward-mode derivatives over balls; undecided boxes are halved; a box centre where the margin
# is certainly negative is a counterexample with exact rational logits.

# %%
from fractions import Fraction as F

import matplotlib.pyplot as plt
import sympy as sp
from matplotlib.patches import Rectangle

from nashproof.claims import KL, Claim, KL_next, builtin_catalogue, eta
from nashproof.claims import beta as beta_sym
from nashproof.families import load_game
from nashproof.prove.boxes import Box
from nashproof.prove.branch import Budget, branch_and_bound
from nashproof.prove.problem import make_spec

catalogue = builtin_catalogue()

# %% [markdown]
# ## A proof on rock-paper-scissors, and its box partition
# NMP-KL-STEP (KL(π*‖π_{k+1}) ≤ KL(π*‖π_k)/(1+ηβ)) at β = 1/10, η = 2, for every π with logits in
# [−3, 3]². The margin vanishes at π* (the centre of the picture); there the boxes shrink until the
# Hessian of the margin is certified positive definite.

# %%
rps = load_game("rps")
spec = make_spec(catalogue.get("NMP-KL-STEP"), rps, F(1, 10), F(2), "nash-mp")
region = Box.region([F(-3)] * 2, [F(3)] * 2)
proof = branch_and_bound(spec, region, Budget(seconds=600))
print(proof.status, f"{proof.boxes} boxes in {proof.seconds:.1f} s, worst lhs/rhs at the centres {proof.worst_ratio:.4f}")


# %%
def draw(outcome, title, ax):
    for box, d in outcome.leaves:
        colour = "tab:orange" if any(m != "centred" for m in d.methods) else "tab:green"
        ax.add_patch(Rectangle((float(box.lo[0]), float(box.lo[1])), float(box.hi[0] - box.lo[0]),
                               float(box.hi[1] - box.lo[1]), facecolor=colour, edgecolor="k", linewidth=0.2))
    for box in outcome.undecided:
        ax.add_patch(Rectangle((float(box.lo[0]), float(box.lo[1])), float(box.hi[0] - box.lo[0]),
                               float(box.hi[1] - box.lo[1]), facecolor="tab:grey", edgecolor="k", linewidth=0.2))
    if outcome.counterexample is not None:
        x, y = outcome.counterexample[1].point
        ax.plot([float(x)], [float(y)], "rx", markersize=12, label="counterexample")
        ax.legend()
    ax.set_xlim(float(region.lo[0]), float(region.hi[0]))
    ax.set_ylim(float(region.lo[1]), float(region.hi[1]))
    ax.set_xlabel("z₁ (logit of rock − logit of scissors)")
    ax.set_ylabel("z₂ (logit of paper − logit of scissors)")
    ax.set_title(title)


fig, ax = plt.subplots(figsize=(6, 6))
draw(proof, "NMP-KL-STEP on RPS: green = centred form, orange = second order at π*", ax)
plt.show()

# %% [markdown]
# ## Disproving tightened variants
# A claim tightened by 10 % fails inside the same box: the first centre with a certainly negative
# margin is the counterexample (exact logits; `nashproof check --game CX.json --steps 1` reproduces it).

# %%
def tightened(factor, cid):
    return Claim(cid, f"NMP-KL-STEP × {factor}", "step", "kl",
                 (sp.Le(KL_next, sp.Rational(factor) * KL / (1 + eta * beta_sym)),), (), ("nash-mp",), "D", "mutant")


t10 = branch_and_bound(make_spec(tightened("9/10", "T10"), rps, F(1, 10), F(2), "nash-mp"), region, Budget(seconds=120))
print(t10.status, "at logits", [str(x) for x in t10.counterexample[1].point], "margin", t10.counterexample[1].margin)
fig, ax = plt.subplots(figsize=(6, 6))
draw(t10, "tightened by 10 %: counterexample", ax)
plt.show()

# %% [markdown]
# A 1 % tightening is subtler. On the 2-action Bradley–Terry game with scores 1 and 3 it holds for
# every logit in [−10, 10] (proved), and fails further out: prove finds a counterexample in [−40, 40].

# %%
bt = load_game("bradley-terry:scores=1+3")
t1 = make_spec(tightened("99/100", "T1"), bt, F(1, 10), F(2), "nash-mp")
inside = branch_and_bound(t1, Box.region([F(-10)], [F(10)]), Budget(seconds=120))
outside = branch_and_bound(t1, Box.region([F(-40)], [F(40)]), Budget(seconds=120))
print("[−10, 10]:", inside.status, f"({inside.boxes} boxes)")
print("[−40, 40]:", outside.status, "at logit", [str(x) for x in outside.counterexample[1].point],
      "margin", outside.counterexample[1].margin)

# %% [markdown]
# ## Every 2-action game at once: the reduction
# On 2 actions every step is affine in π's logit: z_next − z* = c·(z − z*) with c = 1/(1+ηβ). So
# NMP-KL-STEP over *all* games p, references r, β ∈ [1/100, 10] and η ∈ [0, η̄(β)] is a statement about
# (δ = z − z*, z*, c) only. As a function of c its margin m = c·KL(π*‖π) − KL(π*‖π_next) is 0 at c = 0
# and c = 1 (exact algebra) and concave (ball Hessian) — so it is ≥ 0 in between. The curves below
# show m(c) for a few δ at z* = 0; `prove_region` certifies the concavity over the whole box at once.

# %%
from flint import arb  # noqa: E402

from nashproof.prove.ad import Dual  # noqa: E402
from nashproof.prove.branch import prove_region  # noqa: E402
from nashproof.prove.params import make_param_spec  # noqa: E402
from nashproof.prove.params import region as param_region  # noqa: E402
from nashproof.prove.reduced import values  # noqa: E402

two = make_spec(catalogue.get("NMP-KL-STEP"), load_game("two-action:p=3/4,r=1/3"), F(1), F(1), "nash-mp")
every = make_param_spec(two, {"p": (F(0), F(1)), "r": (F(1, 1000), F(999, 1000)), "beta": (F(1, 100), F(10)),
                              "eta": (F(0), F(1))}, eta_max=True)
out, reduced = prove_region(every, param_region(every, F(30)), Budget(seconds=60))
print(out.status, f"in {out.boxes} box(es):", {m for _, d in out.leaves for m in d.methods})
print("reduced box (δ, z*, c):", reduced[0].region.text(["δ", "z*", "c"]))


def margin(delta, c, zs=0.0):
    v = values("nash-mp", *(Dual(arb(x), (), None) for x in (delta, zs, c)), frozenset({"kl", "kl@next"}))
    return float((c * v["kl"].val - v["kl@next"].val).mid())


cs = [k / 100 for k in range(101)]
fig, ax = plt.subplots(figsize=(6, 3.5))
for delta in (0.5, 2.0, 8.0):
    ax.plot(cs, [margin(delta, c) for c in cs], label=f"δ = {delta}")
ax.set_xlabel("c = 1/(1+ηβ)")
ax.set_ylabel("c·KL − KL_next")
ax.legend()
ax.set_title("concave in c, zero at both ends")
plt.show()
