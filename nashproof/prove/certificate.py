"""Proof certificates: the box partition with each box's deciding enclosure, and its independent re-check.

The file is JSON with exact rationals as strings and a SHA-256 checksum over its content: a file
edited by hand is refused (exit 2). ``verify`` checks that the boxes tile the region by repeated
halvings (:func:`tiling_gap`: they cover it and do not overlap, whatever dimension each halving
chose), certifies π* (and the neighbourhood of π* where the margin is convex)
afresh and re-decides every box with the method the file names; the first box
that fails is named.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..claims import Catalogue
from ..errors import InputError
from ..games import Context as GameContext
from ..games import game_from_dict, game_to_dict, make_game
from ..numbers import fraction_str, parse_rational
from ..parallel import pmap
from .boxes import Box, box_from_dict
from .branch import Outcome
from .decide import recheck
from .params import ORDER, ParamSpec, make_param_spec, recheck_param
from .problem import Spec, context, make_spec
from .reduced import COORDINATES, ReducedSpec, recheck_reduced, reduced_context, reduction
from .star import prepare

FORMAT = "nashproof-proof/1"
SPLIT_RULE = ("halve a dimension at its midpoint (the logits: the least-halved, lowest index first; with parameter "
              "ranges: the one costing the margin's enclosure most); the boxes form a guillotine partition")


def _checksum(body: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def certificate(full: Spec | ParamSpec, region: Box, outcome: Outcome, claims_modules: Sequence[str],
                reduced: ReducedSpec | None = None) -> dict[str, object]:
    """The proof's body and checksum. Over a parameter box the region's dimensions after the logits
    are the ranged parameters (``parameters`` names them; β, η and the game are their fixed values
    or the region's lower corner); every box records all its coordinates. A proof in the 2-action
    reduction (``reduced``) records the reduced region and its boxes in (δ, z*, c) instead."""
    spec = full.base if isinstance(full, ParamSpec) else full
    game = make_game([f"y{i}" for i in range(len(spec.ref))], [GameContext("x0", Fraction(1), spec.P, spec.ref)])
    body: dict[str, object] = {
        "format": FORMAT, "claim": spec.claim.id, "statements": [str(s) for s in spec.claim.statements],
        "claims_modules": list(claims_modules), "game": game_to_dict(game), "solver": spec.solver,
        "beta": fraction_str(spec.beta), "eta": fraction_str(spec.eta), "bits": spec.bits,
        "region": region.as_dict(), "split_rule": SPLIT_RULE,
        "parameters": full.names if isinstance(full, ParamSpec) else [],
        "boxes": [{**b.as_dict(), "methods": d.methods, "lower": d.lowers} for b, d in outcome.leaves],
    }
    if reduced is not None:
        body["reduction"] = {"coordinates": list(COORDINATES), "logits": fraction_str(reduced.logits),
                             "region": reduced.region.as_dict()}
    return {**body, "checksum": _checksum(body)}


def write_certificate(path: str, cert: dict[str, object]) -> None:
    try:
        Path(path).write_text(json.dumps(cert, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the certificate {path}: {exc.strerror}") from None


@dataclass
class Verified:
    ok: bool
    boxes: int
    claim: str
    message: str


def _load(path: str) -> dict[str, object]:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the certificate {path}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not a JSON certificate: {exc}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise InputError(f"{path} is not a {FORMAT} certificate")
    body = {k: v for k, v in raw.items() if k != "checksum"}
    if raw.get("checksum") != _checksum(body):
        raise InputError(f"{path}: the checksum does not match its content (the certificate was edited by hand)")
    return raw


def tiling_gap(region: Box, boxes: Sequence[Box]) -> tuple[list[int], str | None]:
    """Check that ``boxes`` tile ``region`` by repeated halvings (a guillotine partition), whatever
    dimension each halving chose: a node is either one box, or halved along a dimension that no box
    inside it straddles, and both halves are tiled in turn. Returns the boxes' indices in tree order
    and None, or the first problem (a part covered by no box, an overlap, a box off the halving grid)."""
    order: list[int] = []
    stack: list[tuple[Box, list[int]]] = [(region, list(range(len(boxes))))]
    while stack:
        node, inside = stack.pop()
        if not inside:
            return order, f"the region part {node.text()} is covered by no box"
        same = [i for i in inside if (boxes[i].lo, boxes[i].hi) == (node.lo, node.hi)]
        if same:
            if len(inside) > 1:
                other = min(i for i in inside if i != same[0])
                return order, (f"box {same[0] + 1} {node.text()} overlaps box {other + 1} "
                               f"{boxes[other].text()}")
            order.append(same[0])
            continue
        if node.level() > 4096:
            return order, f"box {inside[0] + 1} {boxes[inside[0]].text()} is not a box of the region's halvings"
        for d in sorted(range(node.dims), key=lambda j: (node.depth[j], j)):
            mid = (node.lo[d] + node.hi[d]) / 2
            if all(boxes[i].hi[d] <= mid or boxes[i].lo[d] >= mid for i in inside):
                left, right = node.split(d)
                stack.append((right, [i for i in inside if boxes[i].lo[d] >= mid]))
                stack.append((left, [i for i in inside if boxes[i].hi[d] <= mid]))
                break
        else:
            first = min(inside)
            return order, (f"box {first + 1} {boxes[first].text()} is not a box of the region's halvings, or "
                           "overlaps another")
    return order, None


def _recheck_chunk(item: tuple[Spec | ParamSpec | ReducedSpec, list[tuple[int, Box, list[str]]]]
                   ) -> list[tuple[int, str | None]]:
    spec, boxes = item
    if isinstance(spec, ReducedSpec):
        return [(i, recheck_reduced(spec, box, methods)) for i, box, methods in boxes]
    if isinstance(spec, ParamSpec):
        return [(i, recheck_param(spec, box, methods)) for i, box, methods in boxes]
    ctx = context(spec)
    return [(i, recheck(ctx, box, methods)) for i, box, methods in boxes]


def verify_certificate(path: str, catalogue: Catalogue, jobs: int | None = 1,
                       on_progress: Callable[[int], None] | None = None) -> Verified:
    raw = _load(path)
    claim = catalogue.get(str(raw.get("claim")))
    if [str(s) for s in claim.statements] != raw.get("statements"):
        raise InputError(f"{path}: the statements of {claim.id} differ from the catalogue's (load the same "
                         "--claims-module the proof used)")
    game = game_from_dict(raw.get("game"), "certificate game")
    beta = parse_rational(raw.get("beta"), "certificate beta")
    eta = parse_rational(raw.get("eta"), "certificate eta")
    bits = raw.get("bits")
    if not isinstance(bits, int) or not 64 <= bits <= 4096:
        raise InputError(f"{path}: 'bits' must be an integer in [64, 4096]")
    spec = make_spec(claim, game, beta, eta, str(raw.get("solver")), bits)
    lo, hi = box_from_dict(raw.get("region"), "certificate region")
    region = Box.region(lo, hi)
    full = _param_spec(path, spec, raw.get("parameters", []), lo, hi)
    problem: Spec | ParamSpec | ReducedSpec = full
    if "reduction" in raw:
        problem = _reduced(path, full, raw.get("reduction"), lo, hi)
        region = problem.region
    entries = raw.get("boxes")
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path}: 'boxes' must be a non-empty list")
    boxes: list[Box] = []
    methods: list[list[str]] = []
    for i, entry in enumerate(entries):
        blo, bhi = box_from_dict(entry, f"box {i + 1}")
        named = entry.get("methods") if isinstance(entry, dict) else None
        if not isinstance(named, list) or not all(isinstance(m, str) for m in named):
            raise InputError(f"{path}: box {i + 1} needs a list of methods")
        box = Box(blo, bhi, (0,) * len(blo))
        if len(blo) != region.dims or len(bhi) != region.dims or not all(a < b for a, b in zip(blo, bhi)) \
                or any(a < r or b > t for a, b, r, t in zip(blo, bhi, region.lo, region.hi)):
            return Verified(False, len(entries), claim.id, f"box {i + 1} {box.text()} is not a box inside the region")
        boxes.append(box)
        methods.append(named)
    tree, gap = tiling_gap(region, boxes)
    if gap is not None:
        return Verified(False, len(entries), claim.id, gap)
    order = [(i, boxes[i], methods[i]) for i in tree]
    if isinstance(problem, Spec):
        prepare(context(spec))  # π* and its neighbourhood certified afresh in this process
    elif isinstance(problem, ReducedSpec):
        reduced_context(problem)  # the claim's reduction and face identities derived afresh
    size = max(1, -(-len(order) // 64))
    chunks = [(problem, order[k:k + size]) for k in range(0, len(order), size)]
    done = 0

    def tick(_: int) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(min(len(order), done * size))

    results = pmap(_recheck_chunk, chunks, jobs=jobs, on_done=tick)
    failures = sorted((i, why) for r in results for i, why in r if why is not None)
    if failures:
        i, why = failures[0]
        box = next(b for j, b, _ in order if j == i)
        return Verified(False, len(entries), claim.id, f"box {i + 1} {box.text()} does not decide: {why}")
    names = None if isinstance(full, Spec) else [f"z{i + 1}" for i in range(len(spec.ref) - 1)] + full.names
    where = Box.region(lo, hi).text(names)
    if isinstance(problem, ReducedSpec):
        where = (f"{problem.region.text(list(COORDINATES))}, which holds the image of the region {where} "
                 "(the 2-action reduction)")
    return Verified(True, len(entries), claim.id, f"all {len(entries)} boxes re-decided; they tile the region "
                                                  f"{where}")


def _reduced(path: str, full: Spec | ParamSpec, raw: object, lo: tuple[Fraction, ...],
             hi: tuple[Fraction, ...]) -> ReducedSpec:
    """The certificate's reduced problem, after checking afresh that the reduction applies and that its
    region holds the enclosure of the image of the original region."""
    if not isinstance(full, ParamSpec) or not isinstance(raw, dict):
        raise InputError(f"{path}: a 'reduction' needs parameter ranges and a table")
    if raw.get("coordinates") != list(COORDINATES):
        raise InputError(f"{path}: the reduction's coordinates must be {list(COORDINATES)}")
    logits = parse_rational(raw.get("logits"), "certificate reduction logits")
    if lo[0] != -logits or hi[0] != logits:
        raise InputError(f"{path}: the reduction's L differs from the region's logits")
    fresh = reduction(full, logits)
    if fresh is None:
        raise InputError(f"{path}: the 2-action reduction does not apply to {full.base.claim.id} here")
    rlo, rhi = box_from_dict(raw.get("region"), "certificate reduced region")
    region = Box.region(rlo, rhi)
    if len(rlo) != 3 or any(a > b for a, b in zip(rlo, fresh.region.lo)) \
            or any(a < b for a, b in zip(rhi, fresh.region.hi)):
        raise InputError(f"{path}: the reduced region {region.text(list(COORDINATES))} does not hold the image "
                         f"{fresh.region.text(list(COORDINATES))} of the region")
    return ReducedSpec(full, logits, region)


def _param_spec(path: str, spec: Spec, names: object, lo: tuple[Fraction, ...],
                hi: tuple[Fraction, ...]) -> Spec | ParamSpec:
    """The problem the certificate's region describes: the logits, then the named parameter ranges."""
    d = len(spec.ref) - 1
    allowed = [*ORDER, "eta/max"]
    if not isinstance(names, list) or not all(isinstance(x, str) and x in allowed for x in names) \
            or len(set(names)) != len(names):
        raise InputError(f"{path}: 'parameters' must list distinct names among {', '.join(allowed)}")
    if len(lo) != d + len(names):
        raise InputError(f"{path}: the region has {len(lo)} dimensions, the game and parameters need "
                         f"{d + len(names)}")
    if not names:
        return spec
    eta_max = "eta/max" in names
    plain = ["eta" if x == "eta/max" else x for x in names]
    if plain != [x for x in ORDER if x in plain]:
        raise InputError(f"{path}: 'parameters' must follow the order {', '.join(ORDER)}")
    ranges = {nm: (a, b) for nm, a, b in zip(plain, lo[d:], hi[d:])}
    full = make_param_spec(spec, ranges, eta_max)
    if full.base != spec:
        raise InputError(f"{path}: inconsistent base problem")
    return full
