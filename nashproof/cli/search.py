"""``nashproof search``: a claim's worst case, the witness corpus, and the Nash-MP step threshold."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import mpmath

from ..claims import Catalogue, Claim, builtin_catalogue
from ..errors import EXIT_INCONCLUSIVE, EXIT_OK, EXIT_VIOLATION, InputError
from ..families import load_game
from ..files import check_output_dir, check_output_file, read_text
from ..games import Game, game_to_dict
from ..limits import require_fits
from ..numbers import (
    MAX_DIGITS,
    MIN_DIGITS,
    check_beta,
    eta_str,
    fraction_str,
    parse_int,
    parse_positive,
    parse_rational,
    short,
)
from ..parallel import check_jobs
from ..report import Progress, table, wrap
from ..search import (
    KNOWN_SHARP,
    SEARCHABLE,
    Instance,
    SearchConfig,
    Target,
    TargetResult,
    confirm,
    exit_status,
    search,
)
from .args import DIGITS, JOBS, count

#: Limits of a search (memory and time grow with restarts × evaluations × steps).
MAX_RESTARTS, MAX_EVALS, MAX_SEARCH_STEPS = 1000, 1_000_000, 1000

EPILOG = """The ratio is lhs/rhs at the worst iterate (for a multi-term right side, also each term's
normalised margin (lhs − (rhs − t))/t). The best float64 instance is already exact (rational game,
β, η and start logits) and is re-evaluated at --digits by precision doubling; its ratio is printed
with that error estimate. Exit codes: 0 no violation, 1 a violation confirmed, 3 inconclusive,
2 bad input.
examples:
  nashproof search NMP-KL-STEP --n 3
  nashproof search EXPL-SANDWICH --n 3 --evals 400 --save sandwich.json
      # then: nashproof check --game sandwich.json with the solver, β, η and steps it printed
  nashproof search NMP-KL-STEP --n 3 --beta 1/100 --eta 3*max --ignore-hypotheses     # beyond η̄: exit 1
  nashproof search NMP-APPROX-STEP --n 2 --beta 1000:1e6 --solver nash-mp-inexact:delta=1/100,perturb=adversarial
  nashproof search --corpus checks/witnesses NMP-KL0 --n 2:3 --evals 300 --jobs 2  # one claim's witnesses
  nashproof search --corpus checks/witnesses --refresh         # re-confirm the corpus, no search
  nashproof search --step-threshold rps --beta 1/100           # local threshold of the Nash-MP step
"""


def _sizes(text: str) -> tuple[int, ...]:
    parts = text.split(":") if ":" in text else text.split(",")
    if ":" in text and len(parts) != 2:
        raise InputError(f"--n: expected N, N1,N2,... or LO:HI, got {short(text)!r}")
    values = [parse_int(p, "--n: a size", 2, 12) for p in parts[:13]]
    sizes = tuple(range(values[0], values[1] + 1)) if ":" in text else tuple(values)
    if not sizes:
        raise InputError("--n LO:HI needs LO ≤ HI")
    if len(parts) > 12:
        raise InputError("--n: at most 11 sizes (each in 2..12)")
    return sizes


def _beta_range(text: str) -> tuple[Fraction, Fraction]:
    parts = text.split(":")
    if len(parts) > 2:
        raise InputError(f"--beta: expected B or LO:HI, got {text!r}")
    lo, hi = (check_beta(parse_positive(p, "--beta")) for p in (parts[0], parts[-1]))
    if lo > hi:
        raise InputError("--beta LO:HI needs LO ≤ HI")
    return lo, hi


def config_from_args(args: argparse.Namespace) -> SearchConfig:
    if not 0 < args.float_tolerance < 1:
        raise InputError("--float-tolerance must lie in (0, 1)")
    if args.free_reference and not args.game:
        raise InputError("--free-reference needs --game")
    eta = None
    if args.eta is not None:
        from ..suite import parse_eta

        eta = parse_eta(args.eta, _beta_range(args.beta)[1])
    return SearchConfig(
        sizes=_sizes(args.n), contexts=args.contexts, beta_range=_beta_range(args.beta), eta=eta,
        eta_floor=_eta_floor(args.eta_floor),
        steps=args.steps, evals=args.evals, restarts=args.restarts, seed=args.seed,
        max_log10_logit=args.max_logit_digits, ignore_hypotheses=args.ignore_hypotheses, digits=args.digits,
        jobs=check_jobs(args.jobs), dask=args.dask, claim_modules=tuple(args.claims_module or ()),
        targets=_targets(args.target), game=_search_game(args.game, args.digits) if args.game else None,
        free_reference=args.free_reference, solver=_solver_spec(args.solver),
        float_tolerance=args.float_tolerance)


def _search_game(spec: str, digits: int) -> Game:
    """The game of --game / --step-threshold, refused with the estimate when its mpmath runs would not fit."""
    game = load_game(spec)
    require_fits(game.n, len(game.contexts), "mpmath", digits, what="search on this game")
    return game


def _solver_spec(text: str | None) -> str | None:
    """--solver: a full spec such as nash-mp-inexact:delta=1/100,perturb=adversarial (validated now)."""
    if text is None:
        return None
    from ..solvers import make_solver

    make_solver(text, Fraction(1), Fraction(2))
    return text


def _eta_floor(text: str) -> Fraction:
    floor = parse_rational(text, "--eta-floor")
    if not 0 <= floor <= 1:
        raise InputError("--eta-floor must lie in [0, 1]")
    return floor


def _targets(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    items = text.split(",")
    if len(items) > 1000:
        raise InputError("--target: at most 1000 indices")
    return tuple(parse_int(t, "--target: a 1-based index", 1, 1000) - 1 for t in items)


def _catalogue(modules: list[str] | None) -> Catalogue:
    cat = builtin_catalogue()
    for m in modules or []:
        cat.load(m)
    return cat


def _row(r: TargetResult) -> list[str]:
    c = r.confirmation
    inst = r.instance
    return [r.target.label, mpmath.nstr(c.ratio, 12) if c else "-", mpmath.nstr(1 - c.ratio, 3) if c else "-",
            mpmath.nstr(c.error, 2) if c else "-",
            c.status if c else "-", str(inst.game.n) if inst else "-", eta_str(inst.beta) if inst else "-",
            (eta_str(inst.eta) if inst.eta is not None else "default") if inst else "-",
            str(r.evaluations), f"{r.seconds:.1f}"]


def _run_search(args: argparse.Namespace) -> int:
    cat = _catalogue(args.claims_module)
    claim = cat.get(args.claim)
    cfg = config_from_args(args)
    with Progress(1, f"search {claim.id}") as bar:
        cfg.on_done = lambda done: bar.update(0, f"{done} task(s) done")
        results = search(claim, cfg)
    status = exit_status(results)
    best = max((r for r in results if r.confirmation is not None), key=lambda r: r.confirmation.ratio
               if r.confirmation else 0, default=None)
    if args.save and best is not None and best.instance is not None:
        try:
            Path(args.save).write_text(json.dumps(game_to_dict(best.instance.game), indent=1) + "\n",
                                       encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write {args.save}: {exc}") from None
    if args.json:
        out: dict[str, Any] = {"claim": claim.id, "provenance": claim.provenance, "status": status}
        if best is not None:
            d = best.as_dict()
            out.update({"ratio": d["ratio"], "ratio_error": d["ratio_error"], "target": d["target"],
                        "instance": d["instance"]})
        out["targets"] = [r.as_dict() for r in results]
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        print(table(["target", "ratio", "1 − ratio", "error", "verdict", "n", "β", "η", "evals", "cpu s"],
                    [_row(r) for r in results]))
        if best is not None and best.instance is not None and best.confirmation is not None:
            inst = best.instance
            starts = ["[" + ", ".join(eta_str(x) for x in c.start) + "]" if c.start else "π_ref"
                      for c in inst.game.contexts]
            eta = eta_str(inst.eta) if inst.eta is not None else "default"
            ratio = mpmath.nstr(best.confirmation.ratio, 15)
            print("\n" + wrap(f"worst instance ({best.target.label}): ratio {ratio}; "
                               f"solver {inst.solver}, β = {eta_str(inst.beta)}, η = {eta}, steps {inst.steps}; "
                               f"start logits {', '.join(starts)} (shortened; exact in --json)"))
            print(wrap("--json prints the exact instance; --save FILE writes its game file "
                       "(`nashproof check --game FILE`)."))
    return {"violated": EXIT_VIOLATION, "inconclusive": EXIT_INCONCLUSIVE}.get(status, EXIT_OK)


def cmd_search(args: argparse.Namespace) -> int:
    if args.save:  # checked before the search, not after it
        if args.corpus or args.step_threshold:
            raise InputError("--save belongs to a claim search (CLAIM), not to --corpus or --step-threshold")
        check_output_file(args.save, "--save")
    if args.corpus:
        check_output_dir(args.corpus, "--corpus")
    if args.step_threshold:
        return run_step_threshold(args)
    if args.corpus:
        return regenerate_corpus(args)
    if not args.claim:
        raise InputError("give a CLAIM id (see `nashproof claims`), --corpus DIR or --step-threshold GAME")
    return _run_search(args)


def register(sub: Any) -> None:
    p = sub.add_parser("search", help="search games, β, η and starting points for a claim's worst case",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("claim", nargs="?", metavar="CLAIM", help=f"claim id (kinds: {', '.join(SEARCHABLE)})")
    p.add_argument("--n", default="2:6", help="numbers of actions: N, N1,N2 or LO:HI (default 2:6)")
    p.add_argument("--contexts", type=count(1, 8), default=1, help="contexts per game, 1 to 8 (default 1)")
    p.add_argument("--game", help="search only β, η and the start on this game (file or family spec)")
    p.add_argument("--free-reference", action="store_true", help="with --game: search π_ref too (P stays fixed)")
    p.add_argument("--float-tolerance", type=float, default=1e-6,
                   help="ignore float64 points whose estimated ratio error exceeds this (default 1e-6)")
    p.add_argument("--beta", default="1/100:1", help="β or a log range LO:HI (default 1/100:1)")
    p.add_argument("--solver", metavar="SPEC",
                   help="solver spec, e.g. nash-mp-inexact:delta=1/100,perturb=adversarial (default: the claim's)")
    p.add_argument("--eta", help="fixed step (rational, 'max' or 'r*max'); default: searched within the hypotheses")
    p.add_argument("--eta-floor", default="1/2",
                   help="search η in [F·η_max, η_max] (default 1/2: step ratios tend to 1 trivially as η → 0)")
    p.add_argument("--steps", type=count(1, MAX_SEARCH_STEPS),
                   help=f"iterations per instance, at most {MAX_SEARCH_STEPS} (default 1; 4 for trajectory bounds)")
    p.add_argument("--evals", type=count(1, MAX_EVALS), default=2000,
                   help=f"objective evaluations per task, at most {MAX_EVALS} (default 2000)")
    p.add_argument("--restarts", type=count(1, MAX_RESTARTS), default=2,
                   help=f"independent seeded restarts per size, at most {MAX_RESTARTS} (default 2)")
    p.add_argument("--seed", type=count(0, 2**63 - 1), default=0, help="base seed; each task is seeded by its identity")
    p.add_argument("--max-logit-digits", type=count(0, 12), default=12,
                   help="start logits reach ±10^D (default 12, i.e. masses like e^(−10¹²))")
    p.add_argument("--target", help="search only these targets (1-based, comma-separated; default all)")
    p.add_argument("--ignore-hypotheses", action="store_true", help="search beyond the claim's hypotheses")
    p.add_argument("--digits", type=DIGITS, default=60, help="precision of the exact re-evaluation (default 60)")
    p.add_argument("--jobs", type=JOBS, help="local worker processes (default: all cores)")
    p.add_argument("--dask", metavar="ADDRESS", help="send the tasks to this Dask scheduler (extra 'dask')")
    p.add_argument("--claims-module", action="append", help="load extra or replacement claims (module or .py)")
    p.add_argument("--save", metavar="FILE", help="write the worst instance's game file (with start logits)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--corpus", metavar="DIR", help="regenerate the witness corpus: DIR/*.json and DIR.toml")
    p.add_argument("--refresh", action="store_true",
                   help="with --corpus: re-confirm every witness with the current checker, no search")
    p.add_argument("--step-threshold", metavar="GAME", help="local threshold of the Nash-MP step on GAME at --beta")
    p.add_argument("--far", type=count(0, 50), default=6,
                   help="--step-threshold: η multiples searched in the far regime")
    p.set_defaults(handler=cmd_search)



# ------------------------------------------------------------------ witness corpus

CORPUS_CLAIMS_NOTE = ("Nash-MD's bounds are loose (observed ratio ≪ 1, spec §6): a constant tightened by 1 % is "
                      "still a true statement there, so no witness can or should violate it.")


def _slug(label: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in label.replace(" term ", "-t"))
    return "_".join(p for p in keep.split("_") if p)[:60]


def regenerate_corpus(args: argparse.Namespace) -> int:
    """Search every target of every built-in step, bound and static claim (or of CLAIM only); write one
    game file per target into DIR, then rebuild the suite DIR.toml from every witness file in DIR."""
    out = Path(args.corpus)
    cat = _catalogue(args.claims_module)
    if args.refresh:
        if not out.is_dir():
            raise InputError(f"--corpus {args.corpus}: no such directory to refresh")
        return refresh_corpus(out, cat, args.digits)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--corpus {args.corpus}: cannot create the directory ({exc.strerror})") from None
    cfg = config_from_args(args)
    claims = [c for c in cat if c.kind in SEARCHABLE and c.statements and (not args.claim or c.id == args.claim)]
    if not claims:
        raise InputError(f"no searchable claim {args.claim!r}")
    command = "nashproof search " + " ".join(sys.argv[2:])
    rows = []
    with Progress(len(claims), "corpus") as bar:
        for i, claim in enumerate(claims):
            bar.update(i, claim.id)
            for r in search(claim, cfg):
                known = KNOWN_SHARP.get(r.target.label)
                source = command
                if known is not None:  # a family from the proofs competes with the search
                    inst_k = known()
                    conf_k = confirm(claim, r.target, inst_k, cfg.digits)
                    if r.confirmation is None or conf_k.ratio > r.confirmation.ratio:
                        r.instance, r.confirmation, source = inst_k, conf_k, f"{known.__name__} (docs/proofs.md)"
                if r.instance is None or r.confirmation is None:
                    rows.append([r.target.label, "-", "-", "no instance"])
                    continue
                inst, c = r.instance, r.confirmation
                path = out / f"{_slug(r.target.label)}.json"
                old = _recorded_ratio(path, cat)
                if old is not None and old >= c.ratio:  # never make the corpus weaker
                    rows.append([r.target.label, mpmath.nstr(c.ratio, 12), "-", f"kept the recorded {old}"])
                    continue
                meta = {"claim": claim.id, "target": r.target.label, "ratio": mpmath.nstr(c.ratio, 17),
                        "ratio_error": mpmath.nstr(c.error, 3), "status": c.status, "solver": inst.solver,
                        "beta": fraction_str(inst.beta),
                        "eta": fraction_str(inst.eta) if inst.eta is not None else "default",
                        "steps": inst.steps, "digits": c.digits, "command": source}
                if claim.id.startswith("NMD-"):
                    meta["note"] = CORPUS_CLAIMS_NOTE
                doc = {**game_to_dict(inst.game), "witness": meta}
                check_output_file(str(path), "witness file")
                path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
                rows.append([r.target.label, meta["ratio"], meta["ratio_error"], c.status])
        bar.update(len(claims))
    write_corpus_suite(out, cat)
    print(table(["target", "ratio", "error", "verdict"], rows))
    return EXIT_OK


def refresh_corpus(directory: Path, cat: Catalogue, digits: int) -> int:
    """Re-confirm every witness in DIR with the current checker (ratio, error, status), rebuild DIR.toml.

    Every file is read and validated before anything is written: a bad one is one ``error:`` line."""
    witnesses = [(f, w) for f in sorted(directory.glob("*.json")) if (w := read_witness(f, cat)) is not None]
    rows = []
    for f, w in witnesses:
        c = confirm(w.claim, w.target, w.instance, digits)
        w.meta.update({"ratio": mpmath.nstr(c.ratio, 17), "ratio_error": mpmath.nstr(c.error, 3),
                       "status": c.status, "digits": c.digits})
        check_output_file(str(f), "witness file")
        f.write_text(json.dumps(w.doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        rows.append([w.target.label, str(w.meta["ratio"]), str(w.meta["ratio_error"]), c.status])
    write_corpus_suite(directory, cat)
    print(table(["target", "ratio", "error", "verdict"], rows))
    return EXIT_OK


@dataclass
class Witness:
    """A validated witness file: its JSON document, its "witness" entry and the instance it records."""

    doc: dict[str, object]
    meta: dict[str, object]
    claim: Claim
    target: Target
    instance: Instance


_WITNESS_TEXT = ("claim", "target", "solver", "beta", "eta", "status")
_WITNESS_KEYS = frozenset({*_WITNESS_TEXT, "ratio", "ratio_error", "steps", "digits", "command", "note"})


def read_witness(path: Path, cat: Catalogue) -> Witness | None:
    """Read a corpus file through the normal loaders (size, type, UTF-8, JSON, game validation) and check its
    "witness" entry field by field. A file without one is not a witness (None); anything malformed is an
    :class:`InputError` naming the file."""
    from ..search import claim_targets
    from ..suite import EXPECT_STATUSES

    text = read_text(path, "witness file")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{path}: unreadable JSON ({short(str(exc))})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: a witness file holds a JSON object")
    meta = doc.get("witness")
    if meta is None:
        return None
    if not isinstance(meta, dict):
        raise InputError(f"{path}: 'witness' must be a JSON object")
    unknown = sorted(str(k) for k in meta if k not in _WITNESS_KEYS)
    if unknown:
        raise InputError(f"{path}: witness has an unknown key {short(unknown[0])!r}")
    for key in _WITNESS_TEXT:
        if not isinstance(meta.get(key), str) or not meta[key]:
            raise InputError(f"{path}: witness.{key} must be a non-empty string"
                             + (" (it is missing)" if key not in meta else ""))
    try:
        claim = cat.get(str(meta["claim"]))
        targets = claim_targets(claim)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    target = next((t for t in targets if t.label == meta["target"]), None)
    if target is None:
        raise InputError(f"{path}: claim {claim.id} has no target {short(str(meta['target']))!r}")
    beta = check_beta(parse_positive(meta["beta"], f"{path}: witness.beta"))
    eta = None if meta["eta"] == "default" else parse_positive(meta["eta"], f"{path}: witness.eta")
    steps = parse_int(meta.get("steps"), f"{path}: witness.steps", 1, MAX_SEARCH_STEPS)
    parse_int(meta.get("digits"), f"{path}: witness.digits", MIN_DIGITS, MAX_DIGITS)
    if meta["status"] not in EXPECT_STATUSES:
        raise InputError(f"{path}: witness.status {short(str(meta['status']))!r} is not a verdict")
    for key in ("ratio", "ratio_error"):
        parse_rational(str(meta.get(key)), f"{path}: witness.{key}")
    try:
        instance = Instance(load_game(str(path)), str(meta["solver"]), beta, eta, steps)
        instance.make_solver()  # an unknown or malformed solver is an error now
    except InputError as exc:
        raise InputError(str(exc) if str(path) in str(exc) else f"{path}: {exc}") from None
    return Witness(doc, meta, claim, target, instance)


def _recorded_ratio(path: Path, cat: Catalogue) -> mpmath.mpf | None:
    """The ratio a witness file already records (None: no file, or not a witness)."""
    if not path.exists() and not path.is_symlink():
        return None
    w = read_witness(path, cat)
    return mpmath.mpf(str(w.meta["ratio"])) if w is not None else None


def write_corpus_suite(directory: Path, cat: Catalogue) -> Path:
    """DIR.toml: one [[run]] per witness file in DIR (its claim, solver, β, η, steps and digits)."""
    blocks = []
    for f in sorted(directory.glob("*.json")):
        w = read_witness(f, cat)
        if w is None:
            continue
        meta = {key: value if isinstance(value, int) else json.dumps(str(value), ensure_ascii=False)
                for key, value in w.meta.items()}  # TOML basic strings: JSON's quoting, never raw text
        solver = (f'{{ name = {meta["solver"]}, eta = {meta["eta"]} }}' if w.meta["eta"] != "default"
                  else f'{meta["solver"]}')
        equal = w.meta["status"] == "inconclusive"
        blocks.append(f'[[run]]\n# {" ".join(str(w.meta["target"]).split())}: ratio {w.meta["ratio"]} ± '
                      f'{w.meta["ratio_error"]}'
                      + (" (an equality: rounding cannot decide it, so the verdict is inconclusive)" if equal else "")
                      + f'\ngames = [{json.dumps(directory.name + "/" + f.name, ensure_ascii=False)}]\n'
                      f'betas = [{meta["beta"]}]\n'
                      f'solvers = [{solver}]\nsteps = {w.meta["steps"]}\ndigits = {w.meta["digits"]}\n'
                      f'claims = [{meta["claim"]}]\n'
                      + (f'expect = {{ {meta["claim"]} = "inconclusive" }}\n' if equal else ""))
    header = ("# The witness corpus: for every target of every built-in step, bound and static claim, the\n"
              "# tightest instance found by `nashproof search` (game files with exact start logits; each\n"
              "# file's \"witness\" entry records the command, β, η and the confirmed ratio).\n"
              "# Regenerate: nashproof search --corpus checks/witnesses --n 2:5 --evals 1500 --restarts 1\n"
              "# (one claim: add its id). Every claim must pass; tests/test_search.py asserts the ratios.\n"
              'name = "witnesses"\ndescription = "Tightest instances found by nashproof search"\n\n')
    path = Path(str(directory) + ".toml")
    check_output_file(str(path), "corpus suite")
    path.write_text(header + "\n".join(blocks), encoding="utf-8")
    return path


# ------------------------------------------------------------------ step threshold


def run_step_threshold(args: argparse.Namespace) -> int:
    from ..search import far_regime, step_threshold

    if ":" in args.beta:
        raise InputError("--step-threshold needs one β (--beta B)")
    beta = check_beta(parse_positive(args.beta, "--beta"))
    game = _search_game(args.step_threshold, args.digits)
    th = step_threshold(game, beta, max(args.digits // 2, 30))
    if args.far > 0:
        top = th.kl_threshold / th.eta_bar if th.kl_threshold is not None else mpmath.mpf(3)
        hi = Fraction(str(mpmath.nstr(min(top * mpmath.mpf("1.1"), mpmath.mpf(8)), 6)))
        grid = [1 + (hi - 1) * Fraction(i, args.far) for i in range(args.far + 1)] if hi > 1 else [Fraction(1)]
        th.far = far_regime(game, beta, grid, max(100, args.evals // 4), args.seed, check_jobs(args.jobs), args.dask)
    if args.json:
        print(json.dumps(th.as_dict(), indent=2, ensure_ascii=False))
        return EXIT_OK
    d = th.as_dict()
    print(wrap(f"{game.label}, β = {fraction_str(beta)}: η̄ = {mpmath.nstr(th.eta_bar, 12)}, "
               f"largest singular value of D^½AD^½ on the tangent space μ_max = {mpmath.nstr(th.mu_max, 12)}"))
    print(wrap(f"local KL contraction by 1/(1+ηβ) holds for η ≤ {d['kl_threshold'] or '∞ (none found)'}"
               f" = {d['kl_threshold_over_eta_bar'] or '-'}·η̄", indent="  ", hang="    "))
    print(wrap(f"local convergence (spectral radius < 1) for η < {d['convergence_threshold'] or '∞ (none found)'}"
               f" = {d['convergence_threshold_over_eta_bar'] or '-'}·η̄", indent="  ", hang="    "))
    if th.far:
        print("\nfar regime (float64 search over starting points; ratio (1+ηβ)KL_{k+1}/KL_k, > 1 violates):")
        print(table(["η/η̄", "worst one-step ratio"], [[m, f"{r:.12f}"] for m, r in th.far]))
    print("\n" + wrap("Local thresholds are exact to the digits shown (linearisation at π*, docs/proofs.md §3.4); "
                       "the far regime is a search, not a proof."))
    return EXIT_OK
