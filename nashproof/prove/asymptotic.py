"""A proved floor under the asymptotic KL rate of a Nash-MP trajectory (an invariant-cone certificate).

A rate claim ``KL_k ≤ C·ρ^k`` with an unknown constant C holds on every finite run (take C large
enough), so a run alone never refutes it. A proof can. Near π*, in coordinates y = W⁻¹(z − z*) that
block-diagonalise the step's Jacobian at π* (z: the free logits, last logit 0), split y = (a, b) into
the slowest-decaying blocks a and the rest b. Over the ball ‖y‖₂ ≤ r the step is y' = M y with M in
the interval matrix W⁻¹ J(box) W (mean-value form), so with certified bounds

    ‖a'‖ ≥ (σ_min(M_aa) − ‖M_ab‖θ)‖a‖,   ‖b'‖ ≤ (‖M_ba‖ + ‖M_bb‖θ)‖a‖   whenever ‖b‖ ≤ θ‖a‖,

the cone ‖b‖ ≤ θ‖a‖ inside the ball is mapped into itself and ‖a‖ grows by at least g each step.
If the trajectory (enclosed step by step in the same coordinates) enters it at k₀, then for every
k ≥ k₀, ‖z_k − z*‖ ≥ c·g^(k−k₀) and KL_k ≥ c'·g^(2(k−k₀)) with c, c' > 0 (Pinsker, and softmax's
inverse Lipschitz bound), so KL_k / ρ^k → ∞ whenever g² > ρ: no constant C makes the claim true.
Every number is a ball; ``None`` is returned whenever a bound does not close (nothing is claimed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import mpmath
from flint import arb, arb_mat, fmpq, fmpq_mat

from ..backends.balls import precision
from .ad import Dual
from .model import Model, make_model

#: Radii of the certified ball around π* tried in turn (in the block coordinates y).
RADII = tuple(Fraction(1, 10**e) for e in range(1, 13))


@dataclass(frozen=True)
class RateFloor:
    """A proof that ‖y_k‖ ≥ c·g^k, hence the metric ≥ c·g^(power·k), for every k ≥ ``entered`` on the trajectory."""

    growth_sq: arb  #: g², a certified lower bound of the squared per-step growth in the cone
    entered: int  #: the first iterate proved inside the cone
    radius: Fraction  #: the ball ‖y‖₂ ≤ radius around π* in which the cone is invariant
    theta: arb  #: the cone's aperture ‖b‖ ≤ θ‖a‖
    dominant: int  #: the dimension of the slow subspace a
    spectral_sq: arb  #: an enclosure of ρ_loc, the squared spectral radius of the step at π*
    power: int = 2  #: the metric bounded is ≥ c·‖y‖^power (2: KL; 1: the span)

    def describe(self) -> str:
        return (f"invariant-cone certificate at π*: from iterate {self.entered} on, the slow "
                f"{self.dominant}-dimensional "
                f"component grows by g per step with g² ≥ {_lo(self.growth_sq):.10g} (ball ‖y‖ ≤ "
                f"{float(self.radius):.0e} around π*, cone θ = {float(self.theta.mid()):.3g}), so the metric is ≥ "
                f"c·g^({self.power}k) for every later k")


def _lo(x: arb) -> float:
    return float(x.lower())


def _up(x: arb) -> arb:
    return arb(x.upper())


def _abs_lo(x: arb) -> arb:
    """A lower bound of |x| over the ball (0 when the ball holds 0)."""
    return arb(x.lower()) if x > 0 else arb((-x).lower()) if x < 0 else arb(0)


def _fro_up(rows: Sequence[Sequence[arb]]) -> arb:
    """An upper bound of a block's Frobenius norm (hence of its 2-norm)."""
    s = arb(0)
    for row in rows:
        for x in row:
            s += _up(abs(x)) ** 2
    return _up(s.sqrt()) if s > 0 else arb(0)


def block_sigma_bounds(m: list[list[arb]]) -> tuple[arb, arb]:
    """(a lower bound of σ_min, an upper bound of σ_max) of a 1×1 or 2×2 ball matrix."""
    if len(m) == 1:
        return _abs_lo(m[0][0]), _up(abs(m[0][0]))
    (p, q), (r, s) = m
    f2 = _up(p * p + q * q + r * r + s * s)
    det = _abs_lo(p * s - q * r)
    disc = f2 * f2 - 4 * det**2
    root = arb(0) if disc.upper() <= 0 else _up(arb(disc.upper()).sqrt())
    smax = _up(((f2 + root) / 2).sqrt())
    smin = det / smax if det > 0 else arb(0)
    return arb(smin.lower()), smax


@dataclass(frozen=True)
class _Frame:
    W: arb_mat
    Winv: arb_mat
    blocks: tuple[tuple[int, ...], ...]  # index groups of the real block-diagonal form, slowest decay first
    moduli: tuple[float, ...]  # |λ| of each block (floating estimates, only to choose the split)
    row_norms: tuple[arb, ...]  # ‖W_i‖₂, to turn the y-ball into a box of z


class Stepper:
    """The gauge-fixed Nash-MP step z ↦ z' on balls and its Jacobian over a box."""

    def __init__(self, model: Model, ref: Sequence[Fraction]) -> None:
        self.model, self.ref = model, tuple(ref)
        self.d = model.n - 1

    def next_logits(self, z: Sequence[Dual]) -> list[Dual]:
        new = self.model.next_logits(z)
        return [x - new[-1] for x in new[:-1]]

    def point(self, z: Sequence[arb]) -> list[arb]:
        return [x.val for x in self.next_logits([Dual(b, (), None) for b in z])]

    def jacobian(self, box: Sequence[arb]) -> list[list[arb]]:
        zs = [Dual.variable(b, i, self.d, 1) for i, b in enumerate(box)]
        return [list(x.grad) for x in self.next_logits(zs)]


def _frame(J: list[list[arb]]) -> _Frame | None:
    d = len(J)
    with mpmath.workdps(30):
        A = mpmath.matrix([[mpmath.mpf(float(x.mid())) for x in row] for row in J])
        try:
            lam, V = mpmath.eig(A)
        except (ZeroDivisionError, ValueError):  # pragma: no cover - mpmath's QR failing on a degenerate matrix
            return None
        order = sorted(range(d), key=lambda i: -abs(lam[i]))
        cols: list[list[float]] = []
        blocks: list[tuple[int, ...]] = []
        moduli: list[float] = []
        used: set[int] = set()
        for i in order:
            if i in used:
                continue
            used.add(i)
            li = lam[i]
            if abs(mpmath.im(li)) > 1e-12 * max(1.0, abs(li)):
                partner = min((j for j in order if j not in used), key=lambda j: abs(lam[j] - mpmath.conj(li)),
                              default=None)
                if partner is None:
                    return None
                used.add(partner)
                v = [V[r, i] for r in range(d)]
                cols += [[float(mpmath.re(x)) for x in v], [float(mpmath.im(x)) for x in v]]
                blocks.append((len(cols) - 2, len(cols) - 1))
            else:
                cols.append([float(mpmath.re(V[r, i])) for r in range(d)])
                blocks.append((len(cols) - 1,))
            moduli.append(float(abs(li)))
    Wq = fmpq_mat(d, d, [fmpq(*Fraction(cols[c][r]).as_integer_ratio()) for r in range(d) for c in range(d)])
    if Wq.rank() < d:
        return None
    W, Winv = arb_mat(Wq), arb_mat(Wq.inv())
    rows = tuple(_up(sum((arb(W[i, j]) ** 2 for j in range(d)), arb(0)).sqrt()) for i in range(d))
    return _Frame(W, Winv, tuple(blocks), tuple(moduli), rows)


def _in_frame(fr: _Frame, J: list[list[arb]]) -> list[list[arb]]:
    d = len(J)
    M = fr.Winv * arb_mat(d, d, [x for row in J for x in row]) * fr.W
    return [[M[i, j] for j in range(d)] for i in range(d)]


def _norm_up(M: Sequence[Sequence[arb]], blocks: Sequence[tuple[int, ...]]) -> arb:
    """‖M‖₂ ≤ the largest diagonal block's σ_max + the Frobenius norm of everything off those blocks
    (no blocks: the Frobenius norm; a column: its Euclidean norm)."""
    inside = {(i, j) for b in blocks for i in b for j in b}
    off = _fro_up([[x if (i, j) not in inside else arb(0) for j, x in enumerate(row)] for i, row in enumerate(M)])
    return max((block_sigma_bounds([[M[i][j] for j in b] for i in b])[1] for b in blocks), key=lambda x: x.upper(),
               default=arb(0)) + off


def _norm_lo(v: Sequence[arb]) -> arb:
    """A lower bound of the Euclidean norm of a ball vector."""
    s = sum((_abs_lo(x) ** 2 for x in v), arb(0))
    return arb(s.lower()).sqrt() if s > 0 else arb(0)


@dataclass(frozen=True)
class _Cone:
    growth: arb
    theta: arb


def _cone(M: list[list[arb]], slow: Sequence[tuple[int, ...]], fast: Sequence[tuple[int, ...]],
          claimed: arb) -> _Cone | None:
    """The widest cone (θ ≤ 10) that is invariant and keeps the growth above √claimed, if one closes."""
    a_idx = [i for b in slow for i in b]
    b_idx = [i for b in fast for i in b]
    in_a = {(i, j) for b in slow for i in b for j in b}
    sig = min((block_sigma_bounds([[M[i][j] for j in b] for i in b])[0] for b in slow), key=lambda x: x.lower())
    sig_a = sig - _fro_up([[M[i][j] if (i, j) not in in_a else arb(0) for j in a_idx] for i in a_idx])
    if not b_idx:
        return _Cone(arb(sig_a.lower()), arb(0)) if sig_a > 0 else None
    root = _up(claimed.sqrt()) if claimed > 0 else arb(0)
    pos = {i: p for p, i in enumerate(b_idx)}
    s_b = _norm_up([[M[i][j] for j in b_idx] for i in b_idx], [tuple(pos[i] for i in b) for b in fast])
    e_ab = _fro_up([[M[i][j] for j in b_idx] for i in a_idx])
    e_ba = _fro_up([[M[i][j] for j in a_idx] for i in b_idx])
    gap = arb(sig_a.lower()) - s_b
    if not gap > 0:
        return None
    # θ·e_ab costs growth: spend at most a quarter of the gap and half the margin over √claimed.
    room = min(float((gap / 4).lower()), float(((arb(sig_a.lower()) - root) / 2).lower()))
    if room <= 0:
        return None
    theta = arb(min(10.0, room / max(float(e_ab.upper()), 1e-300)))
    growth = arb(sig_a.lower()) - e_ab * theta
    if not (growth > 0 and e_ba + s_b * theta <= theta * arb(growth.lower())):
        return None
    return _Cone(arb(growth.lower()), theta)


def _spectral_sq(fr: _Frame, M: list[list[arb]]) -> arb:
    """An enclosure of the squared spectral radius of the step at π*: below, the growth in an invariant
    cone around the top block (‖Mᵏa‖ ≥ gᵏ‖a‖ forces ρ(M) ≥ g); above, a norm of M."""
    hi = _norm_up(M, fr.blocks) ** 2
    top = sum(1 for m in fr.moduli if m >= fr.moduli[0] * (1 - 1e-9))  # the blocks tied with the top one
    cone = _cone(M, fr.blocks[:top], fr.blocks[top:], arb(0))
    lo = cone.growth**2 if cone is not None else arb(0)
    return (arb(lo.lower()) + arb(hi.upper())) / 2 + arb(0, ((arb(hi.upper()) - arb(lo.lower())) / 2).upper())


def _box(centre: Sequence[arb], fr: _Frame, r: arb) -> list[arb]:
    return [c + arb(0, (r * w).upper()) for c, w in zip(centre, fr.row_norms)]


class LocalCertificate:
    """The Nash-MP step of one game near its π*, in block coordinates, ready to prove rate floors."""

    def __init__(self, step: Stepper, frame: _Frame, zstar: list[arb], bits: int) -> None:
        self.step, self.frame, self.zstar, self.bits = step, frame, zstar, bits
        with precision(bits):
            #: An enclosure of ρ_loc, the squared spectral radius of the step at π*.
            self.spectral_sq = _spectral_sq(frame, _in_frame(frame, step.jacobian(zstar)))

    def rate_floor(self, claimed: arb, start: Sequence[Fraction] | None, power: int = 2,
                   max_steps: int = 5_000) -> RateFloor | None:
        """A proof that the trajectory from π_0 ∝ exp(start) (None: π_ref) has ‖y_k‖ ≥ c·g^k with g² above
        every point of ``claimed`` (so KL_k ≥ c·g^(2k)), or None when no such proof closes here. ``power``
        is only recorded: the metric the caller bounds is ≥ c·‖y‖^power."""
        with precision(self.bits):
            return self._floor(claimed, start, power, max_steps)

    def _floor(self, claimed: arb, start: Sequence[Fraction] | None, power: int, max_steps: int) -> RateFloor | None:
        fr, step = self.frame, self.step
        bound = float(claimed.upper())
        # The split: the slow blocks are those whose |λ|² clears the claimed rate, cut at the widest gap.
        mods = fr.moduli
        cuts = [j for j in range(1, len(mods) + 1) if mods[j - 1] ** 2 > bound]
        if not cuts:
            return None
        cut = max(cuts, key=lambda j: min(mods[j - 1] - (mods[j] if j < len(mods) else 0.0),
                                          mods[j - 1] - max(bound, 0.0) ** 0.5))
        slow, fast = fr.blocks[:cut], fr.blocks[cut:]
        for r in RADII:
            rb = arb(fmpq(r.numerator, r.denominator))
            M = _in_frame(fr, step.jacobian(_box(self.zstar, fr, rb)))
            cone = _cone(M, slow, fast, claimed)
            if cone is None or not _norm_up(M, fr.blocks) < 1 or not cone.growth**2 > claimed:
                continue
            k0 = _enter(step, fr, self.zstar, rb, cone, slow, fast, start, step.ref, max_steps)
            if k0 is None:
                return None
            return RateFloor(arb((cone.growth**2).lower()), k0, r, cone.theta, sum(len(b) for b in slow),
                             self.spectral_sq, power)
        return None


def local_certificate(P: Sequence[Sequence[Fraction]], ref: Sequence[Fraction], logstar: Sequence[arb],
                      beta: Fraction, eta: Fraction, bits: int = 192) -> LocalCertificate | None:
    """The Nash-MP step at fixed η linearised at π* (``logstar``: its certified log-probabilities), or None
    when its Jacobian has no well-conditioned real block-diagonal form."""
    if len(ref) < 2:
        return None
    with precision(bits):
        step = Stepper(make_model(P, ref, logstar, beta, eta, "nash-mp"), ref)
        zstar = [s - logstar[-1] for s in logstar[:-1]]
        frame = _frame(step.jacobian(zstar))
    return None if frame is None else LocalCertificate(step, frame, zstar, bits)


def _enter(step: Stepper, fr: _Frame, zstar: Sequence[arb], r: arb, cone: _Cone, slow: Sequence[tuple[int, ...]],
           fast: Sequence[tuple[int, ...]], start: Sequence[Fraction] | None, ref: Sequence[Fraction],
           max_steps: int) -> int | None:
    """The first k at which the whole enclosure of z_k lies in the cone, or None within ``max_steps``.

    z_k is enclosed as {c_k + W y : ‖y‖₂ ≤ δ_k}: the centre is stepped at a point, the uncertainty by the
    2-norm of W⁻¹ J(box) W over the enclosure (the y-coordinates keep the rotation blocks from wrapping)."""
    d = step.d
    if start is None:
        logs = [arb(fmpq(x.numerator, x.denominator)).log() for x in ref]
    else:
        logs = [arb(fmpq(x.numerator, x.denominator)) for x in start]
    centre = [x - logs[-1] for x in logs[:-1]]
    delta = arb(0)
    a_idx = [i for b in slow for i in b]
    b_idx = [i for b in fast for i in b]
    for k in range(max_steps + 1):
        diff = [c - s for c, s in zip(centre, zstar)]
        yv = fr.Winv * arb_mat(d, 1, diff)
        y = [yv[i, 0] for i in range(d)]
        na = _norm_lo([y[i] for i in a_idx])
        nb, norm = _norm_up([[y[i]] for i in b_idx], ()), _norm_up([[x] for x in y], ())
        if norm + delta < r and na - delta > 0 and (not b_idx or nb + delta <= cone.theta * (na - delta)):
            return k
        # At π* itself (to the working precision) there is no slow component to follow.
        if k == max_steps or not delta.is_finite() or delta > 1e6 or (norm + delta) < 1e-30:
            return None
        box = [c + arb(0, (delta * w).upper()) for c, w in zip(centre, fr.row_norms)]
        norm_M = _norm_up(_in_frame(fr, step.jacobian(box)), fr.blocks)
        image = step.point(centre)
        new_centre = [arb(x.mid()) for x in image]
        err = fr.Winv * arb_mat(d, 1, [x - m for x, m in zip(image, new_centre)])
        rounding = sum((_up(abs(err[i, 0])) ** 2 for i in range(d)), arb(0)).sqrt()
        delta = _up(norm_M * delta + rounding)
        centre = new_centre
    return None
