"""``nashproof complexity``: iterations and queries per method, exact and symbolic, with evidence."""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from typing import Any

import mpmath

from ..complexity_measure import game_kl0, measure, measure_inexact
from ..errors import InputError
from ..families import load_game
from ..files import check_output_file
from ..games import Game
from ..limits import require_fits
from ..numbers import (
    BETA_MAX,
    BETA_MIN,
    MAX_STEPS,
    approx_str,
    check_beta,
    eta_str,
    parse_positive,
    parse_rational,
)
from ..query_complexity import METHODS, Complexity, complexity, log_grid
from ..report import Progress, table, wrap
from ..solvers.inexact import MAX_M
from ..suite import parse_eta
from .args import count


def _count(x: int | None) -> str:
    """An iteration or query count: exact up to 12 digits, then a short decimal (exact in --json)."""
    if x is None:
        return "-"
    return str(x) if x < 10**12 else approx_str(Fraction(x), 4)


def _short_number(text: str) -> str:
    """A measured decimal such as KL₀ to 6 significant digits for the table (--json keeps them all)."""
    try:
        return f"{float(text):.6g}" if len(text) > 12 and "/" not in text else text
    except ValueError:
        return text


def _order(text: str) -> str:
    """``Θ(log(1/(2*beta*epsilon))/beta**2)`` → ``log(1/(2βε))/β²`` (the column says Θ)."""
    if text.startswith("Θ(") and text.endswith(")"):
        text = text[2:-1]
    for old, new in (("**2", "²"), ("**3", "³"), ("**", "^"), ("*", ""), ("epsilon", "ε"), ("beta", "β")):
        text = text.replace(old, new)
    return text


def _rows(results: list[Complexity], measured: bool) -> list[list[str]]:
    rows = []
    for res in results:
        for name, r in res.methods.items():
            row = [eta_str(res.beta), eta_str(res.eps), name, _count(r.iterations), _count(r.queries)]
            if measured:
                loose = (approx_str(Fraction(r.iterations, max(r.measured, 1)), 3)
                         if r.measured is not None and r.iterations else "-")
                row += ["-" if r.measured is None else str(r.measured), loose]
            rows.append([*row, _order(r.order), *([] if measured else [r.claim or "-"])])
    return rows


def _plot(path: str, results: list[Complexity], against: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name in METHODS:
        xs = [float(r.beta if against == "beta" else r.eps) for r in results if r.methods[name].queries]
        ys = [float(r.methods[name].queries or 0) for r in results if r.methods[name].queries]
        if xs:
            ax.loglog(xs, ys, marker="o", ms=3, label=name)
    ax.set_xlabel("β" if against == "beta" else "ε")
    ax.set_ylabel("preference queries to reach ε (from each method's claim)")
    ax.set_title(f"Query complexity on {results[0].metric}" +
                 (f", ε = {float(results[0].eps):g}" if against == "beta" else f", β = {float(results[0].beta):g}"))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


#: ε (and KL₀, C) must lie in float64's normal range: plots, grids and guesses use floats.
EPS_MIN, EPS_MAX = Fraction(1, 10**300), Fraction(10**300)
MAX_ACTIONS_UNREG = 10**12
#: Most (β, ε) rows of one command: derived counts only, or measured on --game.
MAX_PAIRS, MAX_MEASURED_PAIRS = 1000, 100


def _in_range(x: Fraction, what: str, low: Fraction = EPS_MIN, high: Fraction = EPS_MAX) -> Fraction:
    if not low <= x <= high:
        raise InputError(f"{what} = {approx_str(x)} is outside the supported range "
                         f"[{approx_str(low)}, {approx_str(high)}]")
    return x


def _grid(spec: str, what: str, low: Fraction = EPS_MIN, high: Fraction = EPS_MAX) -> list[Fraction]:
    """A value or a log grid a:b:m, both ends checked against [low, high] before any float is formed."""
    ends = spec.split(":")[:2] if ":" in spec else [spec]
    for end in ends:
        _in_range(parse_positive(end, what), what, low, high)
    return log_grid(spec, what)


def _check_args(args: argparse.Namespace) -> None:
    """Every option, before any work (and before --plot's path would be found bad after the run)."""
    if args.kl0 is not None:
        if parse_rational(args.kl0, "--kl0") == 0:
            raise InputError("--kl0 must be > 0 (KL₀ = 0 means π_0 = π*: no iteration is needed)")
        _in_range(parse_positive(args.kl0, "--kl0"), "--kl0")
    _in_range(parse_positive(args.constant, "--constant"), "--constant")
    if args.actions is not None and args.metric != "unregularized" and args.samples_per_query is None \
            and args.delta is None:
        raise InputError("--actions belongs to --metric unregularized, --samples-per-query or --delta")
    if args.plot:
        check_output_file(args.plot, "--plot", (".png", ".svg", ".pdf"))


def cmd_complexity(args: argparse.Namespace) -> int:
    _check_args(args)
    for end in (args.beta.split(":")[:2] if args.beta else []):  # the range message every command gives
        check_beta(parse_positive(end, "--beta"), "--beta")
    betas = _grid(args.beta, "--beta", BETA_MIN, BETA_MAX) if args.beta else []
    epss = _grid(args.eps, "--eps")
    if args.metric != "unregularized" and not betas:
        raise InputError("--beta is required (except for --metric unregularized)")
    if not betas:
        betas = [Fraction(1)]
    if args.eta is not None:  # checked now; 'max' is resolved at each row's β (NMP-UNREG's chosen β too)
        parse_eta(args.eta, betas[0])
    game = load_game(args.game) if args.game else None
    if game is not None:
        require_fits(game.n, len(game.contexts), "float" if game.n >= 64 else "mpmath", 30, args.max_steps,
                     "complexity --game")
    if args.kl0 is not None and game is not None:
        raise InputError("give --kl0 or --game, not both")
    results: list[Complexity] = []
    limit = MAX_MEASURED_PAIRS if game is not None else MAX_PAIRS
    if len(betas) * len(epss) > limit:
        raise InputError(f"{len(betas)} β × {len(epss)} ε = {len(betas) * len(epss)} rows is more than {limit}"
                         + (" with --game (each row runs every method on the game)" if game is not None else
                            " (each row derives every method's count: about 50 ms)") + "; use a coarser grid")
    pairs = [(b, e) for b in betas for e in epss]
    with Progress(len(pairs), "complexity") as bar:
        for i, (b, e) in enumerate(pairs):
            kl0_value = game_kl0(game, b) if game is not None and args.metric == "kl" else None
            res = complexity(b, e, metric=args.metric, eta=args.eta, kl0=args.kl0,
                             min_ref=game.min_reference() if game is not None else None,
                             constant=args.constant, kl0_value=kl0_value,
                             start_at_reference=game is None or game.starts_at_reference(),
                             **{"actions": args.actions, **_inexact_kwargs(args, game)})
            if game is not None and args.metric == "kl":
                with mpmath.workdps(30):
                    measure(game, res, args.max_steps, max(30, int(-mpmath.log10(float(e))) + 25))
                if res.inexact is not None:
                    measure_inexact(game, res, args.max_steps, args.seed)
            results.append(res)
            bar.update(i + 1)
    if args.plot:
        _plot(args.plot, results, "beta" if len(betas) >= len(epss) else "eps")
    if args.json:
        payload: dict[str, Any] = results[0].as_dict() if len(results) == 1 else {
            "rows": [r.as_dict() for r in results]}
        if len(results) > 1:
            payload["methods"] = results[-1].as_dict()["methods"]
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    first = results[0]
    kl0 = _short_number(first.kl0)
    print(wrap(f"metric: {first.metric}; KL₀ = {kl0} ({first.kl0_source})"
               + (f"; β chosen by NMP-UNREG: {eta_str(first.chosen_beta)}" if first.chosen_beta else "")))
    measured = game is not None and args.metric == "kl"
    headers = ["β", "ε", "method", "iterations", "queries", *(["measured", "pred/meas"] if measured else []),
               "order Θ(·)", *([] if measured else ["claim"])]
    print(table(headers, _rows(results, measured)))
    if len(results) == 1:
        print()
        for name, r in first.methods.items():
            claim = f" [{r.claim}, provenance {r.provenance}]" if r.claim else ""
            print(wrap(f"{name}{claim}: {r.formula}", hang="    "))
            details = [a.replace(first.kl0, kl0) for a in r.assumptions] + ([r.note] if r.note else [])
            if details:
                print(wrap("; ".join(details), indent="    "))
    for res in results:
        if res.inexact is not None:
            print_inexact(res)
    return 0


# ---- inexact and sampled Nash-MP (issue 11): --delta / --samples-per-query


def _inexact_kwargs(args: argparse.Namespace, game: Game | None) -> dict[str, Any]:
    from ..solvers.inexact import check_confidence, check_delta, check_m, check_seed

    if args.delta is None and args.samples_per_query is None:
        if args.confidence is not None:
            raise InputError("--confidence goes with --samples-per-query")
        return {}
    if args.delta is not None and args.samples_per_query is not None:
        raise InputError("give --delta or --samples-per-query, not both")
    check_seed(args.seed)
    out: dict[str, Any] = {"confidence": check_confidence(args.confidence or "0.95")}
    if args.delta is not None:
        out["delta"] = check_delta(args.delta)
    else:
        out["samples_per_query"] = check_m(args.samples_per_query)
    if game is not None:
        out["contexts"] = len(game.contexts)
        if args.actions is None:
            out["actions"] = game.n
    return out


def print_inexact(res: Complexity) -> None:
    r = res.inexact
    assert r is not None
    what = (f"per-step error δ = {r.delta} (span of log-policies)" if r.model == "deterministic"
            else f"m = {r.m} duels per action and query, confidence {r.confidence}: per-step δ = {r.delta}")
    print()
    _say(f"inexact Nash-MP ({r.claim}), β = {eta_str(r.beta)}, η = {eta_str(r.eta)}, n = {r.actions}, "
          f"KL₀ = {r.kl0}: {what}")
    _say(f"  floor: {r.floor}" + ("" if r.reachable else f"  > ε = {eta_str(r.eps)}: ε is NOT reachable"))
    if r.reachable:
        _say(f"  iterations: {r.iterations}; queries: {r.queries}"
              + (f"; total samples (duels): {r.samples}" if r.samples is not None else ""))
    if r.measured_iterations is not None or (r.model == "deterministic" and r.note.startswith(" measured")):
        _say(f"  measured on the game: first k with KL ≤ ε = {r.measured_iterations}"
              + (f", duels {r.measured_samples}" if r.measured_samples is not None else ""))
    if r.best_m is not None:
        _say(f"  m minimising total samples for ε: m = {r.best_m} ({r.best_iterations} iterations, "
              f"{r.best_samples} duels); local exponent in n: "
              + (f"{r.n_exponent} (n log n: near-linear)" if r.n_exponent is not None
                 else "- (KL₀ ≤ ε: no samples needed)"))
    if r.note:
        _say(f"  note: {r.note.strip()}")
    _say(f"  {r.formula}")


def _say(text: str) -> None:
    """One paragraph of the inexact block, wrapped to the table width (continuations indented)."""
    indent = " " * (len(text) - len(text.lstrip(" ")))
    print(wrap(text.strip(), indent=indent, hang=indent + "    "))


# ---- end inexact


EPILOG = """examples:
  nashproof complexity --beta 1/10 --eps 1e-6
  nashproof complexity --beta 1e-3:1:13 --eps 1e-8 --plot queries.png
  nashproof complexity --beta 1/20 --eps 1e-10 --game cyclic:n=5,skew=1/3     # with measured evidence
  nashproof complexity --metric unregularized --eps 1e-2 --actions 10
  nashproof complexity --beta 1/100 --eps 1e-4 --json
  nashproof complexity --beta 1 --eps 1e-3 --delta 1e-3 --game cyclic:n=5,skew=1/3   # inexact, measured
  nashproof complexity --beta 1 --eps 1e-2 --samples-per-query 1000 --actions 8      # sampled, best m
"""


def register(sub: Any) -> None:
    p = sub.add_parser("complexity", help="iterations and queries each method needs, from its claim",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--beta", help="β, or a log grid a:b:m (e.g. 1e-3:1:13)")
    p.add_argument("--eps", required=True, help="target ε, or a log grid a:b:m")
    p.add_argument("--metric", choices=("kl", "exploitability", "unregularized"), default="kl",
                   help="kl: KL(π*‖π_k) ≤ ε (default); exploitability: Expl_β ≤ ε (rate claim, constant C "
                   "assumed); unregularized: Expl_0 ≤ ε, β chosen by NMP-UNREG")
    p.add_argument("--eta", help="Nash-MP's step η (default 2), or 'max' (just below η̄(β)) or 'r*max'; "
                   "baselines use their own largest step")
    p.add_argument("--kl0", help="KL(π*_β‖π_0) to use (default: the NMP-KL0 bound 1/(2β))")
    p.add_argument("--game", help="take KL₀ from this game and measure each method on it")
    p.add_argument("--actions", type=count(2, MAX_ACTIONS_UNREG),
                   help="n, 2 to 10^12: actions of a uniform π_ref (--metric unregularized, --samples-per-query)")
    p.add_argument("--constant", default="1", help="the unknown constant C of rate claims (default 1)")
    p.add_argument("--max-steps", type=count(1, MAX_STEPS), default=3000,
                   help=f"cap on measured runs, at most {MAX_STEPS} "
                   "(default 3000)")
    p.add_argument("--plot", metavar="FILE", help="write a log–log plot of queries (.png, .svg or .pdf; "
                   "its directory must exist)")
    p.add_argument("--delta", help="inexact Nash-MP: per-step error δ ≥ 0 (span of log-policies)")
    p.add_argument("--samples-per-query", type=count(1, MAX_M), metavar="M",
                   help="sampled Nash-MP: duels per action and query")
    p.add_argument("--confidence", help="sampled: the claim's confidence 1 − α (default 0.95)")
    p.add_argument("--seed", default="0", help="sampled: seed of the measured run with --game (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON (exact integers) instead of tables")
    p.set_defaults(handler=cmd_complexity)

