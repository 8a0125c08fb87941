"""``nashproof prove``: prove a for-every-π claim over a box of logits, or find a certified counterexample."""

from __future__ import annotations

import argparse
import json
import shlex
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..claims import Catalogue, builtin_catalogue
from ..errors import EXIT_BAD_INPUT, EXIT_INCONCLUSIVE, EXIT_OK, EXIT_VIOLATION, InputError
from ..families import load_game, parse_spec
from ..games import Context as GameContext
from ..games import game_to_dict, make_game
from ..numbers import check_beta, fraction_str, parse_positive, parse_rational
from ..prove.boxes import Box
from ..prove.branch import Budget, Outcome, prove_region
from ..prove.certificate import certificate, verify_certificate, write_certificate
from ..prove.decide import AT_STAR, CENTRED
from ..prove.model import STEP_SOLVERS
from ..prove.params import AT_STAR_HULL, ParamSpec, check_hypotheses_over, make_param_spec
from ..prove.params import region as param_region
from ..prove.problem import DEFAULT_BITS, Spec, check_claim, check_hypotheses, default_solver, make_spec
from ..prove.reduced import COORDINATES, ReducedSpec, why_not
from ..report import Progress
from ..suite import parse_step

EPILOG = """Decides the claim for every policy π = softmax(z, 0) whose free logits z lie in [−L, L]^(n−1)
(the last logit is fixed at 0), in ball arithmetic: each box's margin (rhs − lhs) is enclosed by a
centred form (mean-value and second-order, from forward-mode derivatives over balls); boxes that
do not decide are halved; near π*, where KL-type margins vanish, a box is proved when its Hessian
enclosure is positive definite. A box centre with a certainly negative margin is a counterexample.
exit codes: 0 proved, 1 disproved (a counterexample; or --verify: the certificate does not prove),
2 bad input (or a certificate edited by hand), 3 undecided (a budget ran out; the remaining boxes are
listed), 4 numerical failure.
examples:
  nashproof prove NMP-KL-STEP --game rps --beta 1/10 --eta 2 --logits 20
  nashproof prove NMP-KL-STEP --game rps --beta 1/10 --eta 2 --certificate proof.json
  nashproof prove --verify proof.json
  nashproof prove TIGHT --claims-module mutants.py --game rps --beta 1/10 --eta 2 --counterexample cx.json
  nashproof check --game rps --start-logits=-10,0,0 --solver nash-mp --beta 1/10 --eta 2 --steps 1 \\
      --claim TIGHT --claims-module mutants.py      # reproduces a counterexample (prove prints it)
  nashproof prove NMP-KL-STEP --game two-action:p=1/2:3/4,r=1/3 --beta 1/2:1 --eta 1 --logits 2 \\
      --certificate proof.json              # parameter ranges: the certificate records them too
  nashproof prove NMP-KL-STEP --game two-action:p=0:1,r=1/1000:999/1000 --beta 1/100:10 --eta 0:max \\
      --logits 30 --json                    # every 2-action game: decided in (δ, z*, c) first
On 2 actions with parameter ranges, a claim that reads only KL-geometry quantities of π and its step
is decided first in the coordinates (δ = z − z*, z*, c = 1/(1+ηβ)) (--no-reduction skips that).
"""


def _catalogue(modules: list[str]) -> Catalogue:
    cat = builtin_catalogue()
    for m in modules:
        cat.load(m)
    return cat


def _range(text: str, what: str) -> tuple[Fraction, Fraction]:
    lo, _, hi = text.partition(":")
    if ":" in hi:
        raise InputError(f"{what} {text}: a range is lo:hi")
    a, b = parse_rational(lo, what), parse_rational(hi, what)
    if not a < b:
        raise InputError(f"{what} {text}: empty or reversed range")
    return a, b


def _eta_range(text: str) -> tuple[Fraction, Fraction, bool]:
    """``a:b`` (absolute) or ``a*max:b*max`` / ``0:max`` (fractions of η̄(β))."""
    lo, _, hi = text.partition(":")
    if "max" not in text:
        a, b = _range(text, "--eta")
        return a, b, False
    parts = []
    for side in (lo.strip(), hi.strip()):
        if side == "max":
            parts.append(Fraction(1))
        elif side.endswith("*max"):
            parts.append(parse_rational(side[:-4], "--eta"))
        elif parse_rational(side, "--eta") == 0:
            parts.append(Fraction(0))
        else:
            raise InputError(f"--eta {text}: mix no absolute and relative ends (use a*max:b*max or 0:max)")
    if not parts[0] < parts[1]:
        raise InputError(f"--eta {text}: empty or reversed range")
    return parts[0], parts[1], True


def _spec(args: argparse.Namespace, cat: Catalogue) -> tuple[Spec | ParamSpec, Box]:
    claim = cat.get(args.claim)
    check_claim(claim, cat)
    if args.game is None or args.beta is None:
        raise InputError("prove needs --game and --beta")
    ranges: dict[str, tuple[Fraction, Fraction]] = {}
    game_spec = args.game
    if not Path(args.game).exists():
        name, params = parse_spec(args.game)
        for key, value in params.items():
            if ":" in value:
                if key not in ("p", "r"):
                    raise InputError(f"--game parameter {key}={value}: ranges are supported for a two-action "
                                     "game's p and r only")
                ranges[key] = _range(value, f"--game parameter {key}")
                params[key] = fraction_str(ranges[key][0])
        game_spec = name + (":" + ",".join(f"{k}={v}" for k, v in params.items()) if params else "")
    game = load_game(game_spec)
    eta_max = False
    if ":" in args.beta:
        ranges["beta"] = _range(args.beta, "--beta")
        beta = check_beta(ranges["beta"][0])
        check_beta(ranges["beta"][1])
    else:
        beta = check_beta(parse_positive(args.beta, "--beta"))
    solver = args.solver or default_solver(claim)
    if solver not in STEP_SOLVERS:
        raise InputError(f"--solver {solver}: prove writes out the steps of {', '.join(STEP_SOLVERS)}")
    if args.eta is not None and ":" in args.eta:
        lo, hi, eta_max = _eta_range(args.eta)
        if eta_max and solver != "nash-mp":
            raise InputError(f"--eta {args.eta}: 'max' is Nash-MP's η̄(β); give {solver} numbers")
        ranges["eta"] = (lo, hi)
        eta = lo if not eta_max else Fraction(1)  # only the base; every box computes its own η
    else:
        eta_opt = parse_step(args.eta, solver, beta) if args.eta is not None else Fraction(2)
        assert eta_opt is not None
        eta = eta_opt
    if not args.ignore_hypotheses and not ranges:
        check_hypotheses(claim, beta, eta)
    L = parse_positive(args.logits, "--logits")
    if L > 10**6:
        raise InputError(f"--logits {args.logits}: at most 10^6")
    if not 64 <= args.bits <= 4096:
        raise InputError(f"--bits must lie in [64, 4096], got {args.bits}")
    spec = make_spec(claim, game, beta, max(eta, Fraction(1, 10**9)), solver, args.bits)
    if ranges:
        pspec = make_param_spec(spec, ranges, eta_max)
        whole = param_region(pspec, L)
        if not args.ignore_hypotheses:
            check_hypotheses_over(pspec, whole)
        return pspec, whole
    return spec, Box.region([-L] * (game.n - 1), [L] * (game.n - 1))


def _describe(spec: Spec | ParamSpec, game: str) -> str:
    if isinstance(spec, ParamSpec):
        return f"{spec.base.claim.id} on {game}, {spec.base.solver} step"
    return (f"{spec.claim.id} on {game}, {spec.solver} step, β = {fraction_str(spec.beta)}, "
            f"η = {fraction_str(spec.eta)}")


def _at_point(spec: ParamSpec, params: tuple[tuple[str, Fraction], ...]) -> Spec:
    """The single problem at a counterexample's exact parameters."""
    v = dict(params)
    P, ref = spec.base.P, spec.base.ref
    if spec.n == 2:
        P = ((Fraction(1, 2), v["p"]), (1 - v["p"], Fraction(1, 2)))
        ref = (v["r"], 1 - v["r"])
    b = spec.base
    return Spec(b.claim, P, ref, v["beta"], v["eta"], b.solver, b.bits)


def _logits(point: tuple[Fraction, ...]) -> list[str]:
    return [fraction_str(x) for x in (*point, Fraction(0))]


def _report(full: Spec | ParamSpec, region: Box, out: Outcome, args: argparse.Namespace,
            reduced: tuple[ReducedSpec, Outcome] | None) -> dict[str, Any]:
    spec = full.base if isinstance(full, ParamSpec) else full
    if isinstance(full, ParamSpec) and out.counterexample is not None:
        spec = _at_point(full, out.counterexample[1].params)
    rate = out.boxes / out.seconds if out.seconds > 0 else 0.0
    rep: dict[str, Any] = {
        "status": out.status, "claim": spec.claim.id, "game": args.game, "solver": spec.solver,
        "beta": fraction_str(spec.beta), "eta": fraction_str(spec.eta), "region": region.as_dict(),
        "boxes": out.boxes, "seconds": round(out.seconds, 2), "boxes_per_second": round(rate, 1),
        "worst_ratio_at_centres": out.worst_ratio,
        "parameters": full.text() if isinstance(full, ParamSpec) else None,
        "method": f"ball arithmetic (python-flint arb, {spec.bits} bits); π*_β enclosed by a Krawczyk test",
    }
    if isinstance(full, ParamSpec) and full.n == 2:
        rep["reduction"] = _reduction_report(full, reduced)
    if out.status == "proved":
        rep["proved_boxes"] = len(out.leaves)
        rep["methods"] = dict(Counter(m for _, d in out.leaves for m in d.methods).most_common())
        at_star = {AT_STAR, AT_STAR_HULL}
        rep["second_order_boxes"] = sum(bool(at_star & set(d.methods)) for _, d in out.leaves)
        tight = min(((Fraction(x), b) for b, d in out.leaves for x, m in zip(d.lowers, d.methods) if m == CENTRED),
                    key=lambda t: t[0], default=None)  # the other methods prove ≥ 0 without a positive bound
        if tight is not None:
            rep["smallest_margin_lower_bound"] = fraction_str(tight[0])
            rep["tightest_box"] = tight[1].as_dict()
    if out.counterexample is not None:
        _, d = out.counterexample
        rep["counterexample"] = {"logits": _logits(d.point), "beta": fraction_str(spec.beta),
                                 "eta": fraction_str(spec.eta), "P": [[fraction_str(x) for x in r] for r in spec.P],
                                 "ref": [fraction_str(x) for x in spec.ref], "statement": d.statement + 1,
                                 "statement_text": str(spec.claim.statements[d.statement]), "margin": d.margin}
        game = args.game
        if isinstance(full, ParamSpec) and full.n == 2:
            game = f"two-action:p={fraction_str(spec.P[0][1])},r={fraction_str(spec.ref[0])}"
        mods = "".join(f" --claims-module {shlex.quote(m)}" for m in args.claims_module or [])
        rep["reproduce"] = (f"nashproof check --game {shlex.quote(game)} "
                            f"--start-logits={','.join(_logits(d.point))} --solver "
                            f"{spec.solver} --beta {fraction_str(spec.beta)} --eta {fraction_str(spec.eta)} --steps 1 "
                            f"--claim {spec.claim.id}{mods}")
    if out.status == "undecided":
        rep["reason"] = out.reason
        rep["undecided"] = [{**b.as_dict(), "width": fraction_str(max(h - lo for lo, h in zip(b.lo, b.hi)))}
                            for b in out.undecided[:50]]
        rep["undecided_count"] = len(out.undecided)
    return rep


def _reduction_report(full: ParamSpec, reduced: tuple[ReducedSpec, Outcome] | None) -> dict[str, Any]:
    if reduced is None:
        return {"used": False, "why_not": why_not(full)}
    red, out = reduced
    return {"used": out.status == "proved", "coordinates": list(COORDINATES), "region": red.region.as_dict(),
            "status": out.status, "boxes": out.boxes, "seconds": round(out.seconds, 2),
            **({"reason": out.reason} if out.status != "proved" else {})}


def _print(rep: dict[str, Any], region: Box, full: Spec | ParamSpec, args: argparse.Namespace) -> None:
    what = _describe(full, args.game)
    spec = full.base if isinstance(full, ParamSpec) else full
    dims = region.dims - (len(full.ranges) if isinstance(full, ParamSpec) else 0)
    where = f"every π with logits in [−{args.logits}, {args.logits}]^{dims} (last logit 0)"
    if isinstance(full, ParamSpec):
        where = f"every {full.text()},\n  and {where}"
    speed = f"{rep['boxes']} boxes in {rep['seconds']} s ({rep['boxes_per_second']} boxes/s)"
    red = rep.get("reduction") or {}
    if rep["status"] == "proved":
        print(f"proved: {what},")
        print(f"  for {where}")
        if red.get("used"):
            box = Box.region(*(tuple(Fraction(x) for x in red["region"][k]) for k in ("lo", "hi")))
            print(f"  in the 2-action reduction: {speed}; box(es) by method: "
                  + ", ".join(f"{m}: {k}" for m, k in rep["methods"].items()))
            print(f"  over {box.text(list(COORDINATES))}, which holds the region's image")
        else:
            print(f"  {speed}; {rep['second_order_boxes']} box(es) near π* by the second-order test, the rest by "
                  "the centred form")
        if rep.get("worst_ratio_at_centres") is not None:
            print(f"  worst lhs/rhs at the box centres: {rep['worst_ratio_at_centres']:.6g}")
        if "tightest_box" in rep:
            tb = rep["tightest_box"]
            print(f"  smallest margin lower bound {rep['smallest_margin_lower_bound']} on box "
                  f"[{', '.join(f'{a}..{b}' for a, b in zip(tb['lo'], tb['hi']))}]")
    elif rep["status"] == "disproved":
        cx = rep["counterexample"]
        print(f"disproved: {what}:")
        print(f"  statement {cx['statement']} ({cx['statement_text']}) fails at π = softmax(z) with "
              f"exact logits z = [{', '.join(cx['logits'])}]; margin {cx['margin']} < 0 (certified)")
        print(f"  {speed}")
        mods = "".join(f" --claims-module {m}" for m in args.claims_module or [])
        if isinstance(full, ParamSpec):
            print(f"  at the exact parameters β = {cx['beta']}, η = {cx['eta']}, P = {cx['P']}, π_ref = {cx['ref']}")
        print(f"  reproduce: {rep['reproduce']}")
        if args.counterexample:
            print(f"  or: nashproof check --game {args.counterexample} --solver {spec.solver} --beta {cx['beta']} "
                  f"--eta {cx['eta']} --steps 1 --claim {spec.claim.id}{mods}")
    else:
        print(f"undecided: {what},")
        print(f"  for {where}: {rep['reason']}")
        if "status" in red:
            print(f"  the 2-action reduction did not decide it first: {red.get('reason', red['status'])}")
        print(f"  {speed}; {rep['undecided_count']} box(es) remain, e.g.:")
        for b in rep["undecided"][:10]:
            print(f"    [{', '.join(f'{a}..{c}' for a, c in zip(b['lo'], b['hi']))}] width {b['width']}")


def _write_counterexample(path: str, spec: Spec, logits: list[str]) -> None:
    game = make_game([f"y{i}" for i in range(len(spec.ref))], [GameContext("x0", Fraction(1), spec.P, spec.ref)])
    data = game_to_dict(game)
    contexts = data["contexts"]
    assert isinstance(contexts, list)
    contexts[0]["start_logits"] = logits
    try:
        Path(path).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None


def cmd_prove(args: argparse.Namespace) -> int:
    cat = _catalogue(args.claims_module or [])
    if args.verify is not None:
        if args.claim is not None:
            raise InputError("--verify FILE takes no claim: the certificate names it")
        with Progress(None, "verify") as bar:
            res = verify_certificate(args.verify, cat, jobs=args.jobs, on_progress=bar.update)
        if args.json:
            print(json.dumps({"verified": res.ok, "claim": res.claim, "boxes": res.boxes, "message": res.message}))
        else:
            print(f"{'verified' if res.ok else 'not verified'}: {res.claim}: {res.message}")
        return EXIT_OK if res.ok else EXIT_VIOLATION
    if args.claim is None:
        raise InputError("prove needs a CLAIM (or --verify FILE)")
    if args.max_boxes < 1 or args.max_depth < 1 or args.seconds <= 0:
        raise InputError("--max-boxes, --max-depth and --seconds must be > 0")
    spec, region = _spec(args, cat)
    budget = Budget(args.max_boxes, args.max_depth, args.seconds)
    with Progress(None, "prove") as bar:
        out, reduced = prove_region(spec, region, budget, jobs=args.jobs, dask=args.dask, reduce=not args.no_reduction,
                                    on_progress=lambda done, proved, left: bar.update(done, f"{proved} proved, "
                                                                                            f"{left} open"))
    rep = _report(spec, region, out, args, reduced)
    if out.status == "disproved" and args.counterexample:
        cx_spec = _at_point(spec, out.counterexample[1].params) if isinstance(spec, ParamSpec) and out.counterexample \
            else spec
        assert isinstance(cx_spec, Spec)
        _write_counterexample(args.counterexample, cx_spec, rep["counterexample"]["logits"])
    if out.status == "proved" and args.certificate:
        used = reduced[0] if reduced is not None and reduced[1] is out else None
        write_certificate(args.certificate, certificate(spec, region, out, args.claims_module or [], used))
        rep["certificate"] = args.certificate
    if args.json:
        print(json.dumps(rep, indent=1, ensure_ascii=False))
    else:
        _print(rep, region, spec, args)
        if out.status == "proved" and args.certificate:
            print(f"  certificate: {args.certificate} (re-check with nashproof prove --verify {args.certificate})")
    return {"proved": EXIT_OK, "disproved": EXIT_VIOLATION}.get(out.status, EXIT_INCONCLUSIVE)


def register(sub: Any) -> None:
    p = sub.add_parser("prove", help="prove a for-every-π claim over a box of logits, or find a counterexample",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("claim", nargs="?", metavar="CLAIM", help="a for-every-π claim id (step, bound or static)")
    p.add_argument("--game", help="a one-context game file or family spec")
    p.add_argument("--beta", help="β > 0 (a rational)")
    p.add_argument("--eta", help="the step η (a rational, 'max' = just below η̄(β), or 'r*max'; default 2)")
    p.add_argument("--solver", help=f"whose step a step claim reads ({', '.join(STEP_SOLVERS)}; default: the claim's)")
    p.add_argument("--logits", default="20", help="L: the free logits range over [−L, L] (default 20)")
    p.add_argument("--max-boxes", type=int, default=200_000, help="box budget (default 200000)")
    p.add_argument("--max-depth", type=int, default=80, help="halvings per box budget (default 80)")
    p.add_argument("--seconds", type=float, default=600.0, help="time budget in seconds (default 600)")
    p.add_argument("--bits", type=int, default=DEFAULT_BITS, help=f"ball precision in bits (default {DEFAULT_BITS})")
    p.add_argument("--certificate", metavar="FILE", help="write the proof's box partition (JSON)")
    p.add_argument("--counterexample", metavar="FILE", help="write a counterexample as a game file with start_logits")
    p.add_argument("--verify", metavar="FILE", help="re-check a certificate (no search, fresh arithmetic)")
    p.add_argument("--no-reduction", action="store_true",
                   help="on 2 actions with parameter ranges, search the original coordinates only")
    p.add_argument("--ignore-hypotheses", action="store_true", help="prove even where the claim's hypotheses fail")
    p.add_argument("--claims-module", action="append", help="load extra or replacement claims (module or .py)")
    p.add_argument("--jobs", type=int, default=1, help="local worker processes (default 1)")
    p.add_argument("--dask", metavar="ADDRESS", help="run the boxes on this Dask scheduler")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_prove)


__all__ = ["EXIT_BAD_INPUT", "register"]
