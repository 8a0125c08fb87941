"""``nashproof claims`` and ``nashproof check``."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from ..claims import KINDS, TAGS, Catalogue, builtin_catalogue, human
from ..errors import EXIT_INCONCLUSIVE, EXIT_OK, EXIT_VIOLATION, InputError
from ..files import check_output_dir, check_output_file
from ..numbers import MAX_DIGITS, MAX_STEPS, MIN_DIGITS, eta_str, parse_positive, plural
from ..parallel import run_check_tasks
from ..report import Progress, table, wrap
from ..suite import MAX_RUNS, DimensionTask, Task, check_power, load_suites, parse_eta, run_dimension
from ..verify import Verdict
from .args import DIGITS, JOBS, count

CERTIFIED_NOTE = ("Certified (default): every number is a ball (python-flint arb) that encloses the exact value; a "
                  "verdict is pass only if the claim holds for every point of the balls, violated only if it fails for "
                  "every point, else inconclusive (retried at the precision it asks for, up to 1200 digits). The "
                  "working precision starts at the digits plus 3 bits per iteration and is raised until every log π_k "
                  "is known to 10^(−D). π*_β is enclosed by a Krawczyk test. Step claims are certified at exactly "
                  "represented points (π ∝ exp(mid log π_k), one exact step each); the others on the exact trajectory.")
PRECISION_NOTE = ("Error estimates come from precision doubling: every metric is computed at D and at D+G digits; "
                  "the error is twice their difference plus 100·n·10^(−D)·scale. A verdict is pass or violated only "
                  "when the margin exceeds the propagated error; otherwise it is inconclusive, or equality when the "
                  "two sides are proved equal for the game (an identity). Not a certified enclosure. With "
                  "until_floor (default), iterates whose metric has < 9 correct digits are not evaluated; the range "
                  "evaluated is reported.")

DEFAULT_SUITE = Path(__file__).resolve().parents[2] / "checks" / "default.toml"  # the repository's suite


def _catalogue(modules: Sequence[str]) -> Catalogue:
    cat = builtin_catalogue()
    for m in modules:
        cat.load(m)
    return cat


# ------------------------------------------------------------------ claims


def cmd_claims(args: argparse.Namespace) -> int:
    cat = _catalogue(args.claims_module or [])
    if args.id:
        claim = cat.get(args.id)
        if args.json:
            print(json.dumps(claim.as_dict(), indent=2, ensure_ascii=False))
            return 0
        d = claim.as_dict()
        hyps = [human(h) for h in claim.hypotheses]
        print(f"{claim.id}: {claim.title}")
        print(wrap(f"  statement : {d['statement']}", hang=" " * 14))
        print(wrap(f"  LaTeX     : {d['latex']}", hang=" " * 14))
        print(wrap(f"  hypotheses: {', '.join(hyps) or '(none)'}", hang=" " * 14))
        print(f"  kind      : {claim.kind} ({KINDS[claim.kind]})")
        print(f"  metric    : {claim.metric}; solvers: {', '.join(claim.solvers)}")
        print(wrap(f"  provenance: {claim.provenance} — " + "; ".join(f"{t}: {TAGS[t]}" for t in claim.tags),
                   hang=" " * 14))
        print(wrap(f"  source    : {claim.source}", hang=" " * 14))
        if claim.derivation:
            print(wrap(f"  derivation: {claim.derivation}", hang=" " * 14))
        return 0
    if args.json:
        print(json.dumps([c.as_dict() for c in cat], indent=2, ensure_ascii=False))
        return 0
    rows = [[c.id, c.provenance, c.kind, ", ".join(c.solvers), c.title] for c in cat]
    print(table(["id", "provenance", "kind", "solvers", "claim"], rows))
    print("\n" + wrap("Tags: " + "; ".join(f"{t} = {d}" for t, d in TAGS.items()) + "."))
    print("D claims are derived for this project and are checked, not assumed (proofs: docs/proofs.md).")
    return 0


# ------------------------------------------------------------------- check


def _exit_code(verdicts: Sequence[Verdict]) -> int:
    outcomes = {v.outcome for v in verdicts}
    unexpected = [v for v in verdicts if v.expected is not None and v.outcome != "expected"]
    if "violated" in outcomes or unexpected:
        return EXIT_VIOLATION
    if "inconclusive" in outcomes:
        return EXIT_INCONCLUSIVE
    return EXIT_OK


def _note(verdicts: Sequence[Verdict]) -> str:
    methods = {v.method for v in verdicts if v.status != "not-applicable"}
    notes = [CERTIFIED_NOTE] if any(m.startswith("certified") for m in methods) else []
    if methods - {"certified"}:
        others = ", ".join(sorted(methods - {"certified"}))
        notes.append(PRECISION_NOTE if not notes else
                     f"The verdicts whose method is not certified ({others}; see the method column) are estimated "
                     "instead: " + PRECISION_NOTE[0].lower() + PRECISION_NOTE[1:])
    return " ".join(notes) or CERTIFIED_NOTE


def _methods(vs: Sequence[Verdict]) -> str:
    return ", ".join(sorted({v.method for v in vs if v.status != "not-applicable"})) or "-"


def _summary(verdicts: Sequence[Verdict], cat: Catalogue) -> list[dict[str, Any]]:
    out = []
    for cid in dict.fromkeys(v.claim for v in verdicts):
        vs = [v for v in verdicts if v.claim == cid]
        tight = [float(v.tightness) for v in vs if v.tightness not in (None, "nan") and v.kind != "dimension"]
        counts = {s: sum(1 for v in vs if v.outcome == s) for s in
                  ("pass", "equality", "violated", "inconclusive", "not-applicable", "expected")}
        consts = [float(v.min_constant) for v in vs if v.min_constant not in (None, "nan")]
        out.append({"claim": cid, "provenance": cat.get(cid).provenance, "kind": cat.get(cid).kind, **counts,
                    "worst_tightness": max(tight) if tight else None, "method": _methods(vs),
                    "slower_rate_flags": sum(1 for v in vs if v.slower),
                    **({"smallest_constant": max(consts)} if consts else {})})
    return out


def _junit(path: str, verdicts: Sequence[Verdict], elapsed: float) -> None:
    suite = ET.Element("testsuite", name="nashproof", tests=str(len(verdicts)), time=f"{elapsed:.2f}",
                       failures=str(sum(v.outcome == "violated" for v in verdicts)),
                       skipped=str(sum(v.outcome in ("inconclusive", "not-applicable") for v in verdicts)))
    for v in verdicts:
        case = ET.SubElement(suite, "testcase", classname=f"{v.claim}[{v.provenance}]",
                             name=f"{v.game} | {v.solver} | beta={v.beta} | eta={v.eta}")
        props = ET.SubElement(case, "properties")
        ET.SubElement(props, "property", name="method", value=v.method)
        if v.certified_at:
            ET.SubElement(props, "property", name="certified_at", value=v.certified_at)
        if v.outcome == "violated":
            msg = (f"first k={v.first_k}: observed {v.observed} > bound {v.bound} (margin {v.margin}; {v.method}); "
                   f"{v.note}")
            ET.SubElement(case, "failure", message=msg.strip())
        elif v.outcome in ("inconclusive", "not-applicable"):
            ET.SubElement(case, "skipped", message=f"{v.outcome} ({v.method}): {v.note}")
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _game(v: Verdict) -> str:
    """A verdict's game for people: a dimension family's ``{n}`` becomes n."""
    return v.game.replace("{n}", "n") if v.kind == "dimension" else v.game


def _eta(text: str) -> str:
    """η as a short decimal when its exact fraction is long (the JSON keeps the exact value)."""
    try:
        return eta_str(Fraction(text))
    except (ValueError, ZeroDivisionError):
        return text


def _defined(value: str) -> str:
    """``-`` for an undefined number (a rate fitted on KL ≡ 0, at n = 2 for instance)."""
    return "-" if value in ("nan", "None", "") else value


def _verdict_block(v: Verdict) -> list[str]:
    head = (f"{v.claim} [{v.provenance}] {v.outcome} ({v.method}): {_game(v)}, {v.solver}, β = {_eta(v.beta)}, "
            f"η = {_eta(v.eta)}" + (f", first k = {v.first_k}" if v.first_k is not None else ""))
    facts = []
    if v.observed or v.bound:
        facts.append(f"observed {v.observed or '-'} vs bound {v.bound or '-'}")
    if v.fitted_rate or v.claimed_rate:
        facts.append(f"fitted rate {v.fitted_rate or '-'} vs claimed {v.claimed_rate or '-'}")
    if v.margin or v.error:
        facts.append(f"margin {v.margin or '-'}, error {v.error or '-'}")
    if v.expected is not None:
        facts.append(f"the suite expects {v.expected}")
    note = v.note.replace(v.failed_hypothesis, human(v.failed_hypothesis)) if v.failed_hypothesis else v.note
    detail = "; ".join(facts + ([note] if note else []))
    return [wrap(head)] + ([wrap(detail, indent="    ")] if detail else [])


def _print_report(verdicts: Sequence[Verdict], cat: Catalogue, elapsed: float, code: int) -> None:
    summary = _summary(verdicts, cat)
    # One method for every verdict (the usual case): the closing note names it, the table need not.
    mixed = len({s["method"] for s in summary if s["method"] != "-"}) > 1
    rows = [[s["claim"], str(s["pass"]), str(s["equality"]), str(s["violated"]), str(s["inconclusive"]),
             str(s["not-applicable"]), str(s["expected"]),
             f"{s['worst_tightness']:.4g}" if s["worst_tightness"] is not None else "-",
             *([s["method"]] if mixed else []), s["provenance"]] for s in summary]
    print(table(["claim", "pass", "equal", "violated", "inconcl.", "n/a", "expected", "obs/bound",
                 *(["method"] if mixed else []), "provenance"], rows))
    notable = [v for v in verdicts if v.outcome in ("violated", "inconclusive", "equality") or v.slower
               or (v.expected is not None and v.outcome != "expected")
               or (len(verdicts) <= 20 and v.failed_hypothesis is not None)]
    if notable:
        print()
        for v in notable[:40]:
            print("\n".join(_verdict_block(v)))
        if len(notable) > 40:
            print(f"... {len(notable) - 40} more (use --json)")
    rates = [v for v in verdicts if v.kind == "rate" and v.fitted_rate]
    if rates:
        worst = max(rates, key=lambda v: float(v.fitted_rate or 0) / float(v.claimed_rate or 1))
        print("\n" + wrap(f"rate claims: {len(rates)} fitted; slowest relative to its claim: {worst.claim} on "
                          f"{worst.game} β = {_eta(worst.beta)}: fitted {worst.fitted_rate} vs claimed "
                          f"{worst.claimed_rate}, smallest constant {worst.min_constant}. A rate claim says "
                          "metric ≤ C·rate^k for some unknown C: the fitted rate (the log-slope of the last half of "
                          "the run) may exceed the claimed one by a little and still pass; a tail decaying less "
                          "than 90 % as fast as claimed is flagged inconclusive (evidence, not proof): without a "
                          "proved C no finite run refutes a rate."))
        for s in summary:
            if "smallest_constant" in s:
                print(wrap(f"{s['claim']}: smallest constant C valid on every run here: {s['smallest_constant']:.6g} "
                           "(no constant in the claim; a claims module may set Claim.constant to check one)",
                           indent="  ", hang="    "))
    for v in verdicts:
        if v.kind == "dimension" and v.extra.get("sizes"):
            sizes: Any = v.extra["sizes"]
            ns = ", ".join(str(r["n"]) for r in sizes)
            print("\n" + wrap(f"{v.claim} on {_game(v)} for n = {ns} (β = {_eta(v.beta)}, η = {_eta(v.eta)}): "
                              f"{v.outcome} ({v.method}); {v.note}"))
            print(table(["n", "backend", "KL_{k+1}(1+ηβ)/KL_k", "KL_k(1+ηβ)^k/KL_0", "fitted/claimed rate"],
                        [[str(r["n"]), r["backend"], *(_defined(r[key]) for key in (
                            "worst_step_ratio", "constant", "fitted_rate"))] for r in sizes]))
            print("(the largest normalised step ratio and constant over k; both must stay ≤ 1)")
    print("\n" + wrap(f"{plural(len(verdicts), 'verdict')} in {elapsed:.1f} s; exit code {code}. {_note(verdicts)}"))


def _check_outputs(args: argparse.Namespace) -> None:
    """Output paths are checked before the run (a bad one found after minutes of work is lost work)."""
    if args.junit:
        check_output_file(args.junit, "--junit")
    if args.report:
        check_output_dir(args.report, "--report")


def _inexact_options(args: argparse.Namespace) -> dict[str, Any]:
    """--confidence and --runs of the single-shot form (probability claims of sampled solvers, issue 11)."""
    from ..solvers.inexact import check_confidence

    return {"power": check_power(args.power, "--power") if args.power is not None else None,
            "confidence": check_confidence(args.confidence) if args.confidence is not None else None,
            "runs": args.runs}


def _start_logits(text: str | None, game_spec: str) -> tuple[tuple[Fraction, ...], ...] | None:
    """``--start-logits 1/2,-3,0``: exact logits of π_0 (one context; contexts separated by ';'); n − 1
    numbers per context mean a last logit of 0, the gauge ``prove`` prints."""
    if text is None:
        return None
    from ..families import load_game
    from ..numbers import parse_rational

    game = load_game(game_spec)
    rows = [tuple(parse_rational(x, "--start-logits") for x in part.split(",")) for part in text.split(";")]
    rows = [(*r, Fraction(0)) if len(r) == game.n - 1 else r for r in rows]
    game.with_start(rows)  # validated now: one clear error line (counts, range) before any run
    return tuple(rows)


def cmd_check(args: argparse.Namespace) -> int:
    _check_outputs(args)
    cat = _catalogue(args.claims_module or [])
    tasks: list[Task] = []
    dims: list[DimensionTask] = []
    suites: list[str] = []
    modules: list[str] = list(args.claims_module or [])
    if args.game or args.solver or args.beta:
        if not (args.game and args.solver and args.beta):
            raise InputError("the single-shot form needs --game, --solver and --beta")
        if args.suites:
            raise InputError("give either suite files or --game/--solver/--beta, not both")
        beta = parse_positive(args.beta, "--beta")
        claims = tuple(args.claim) if args.claim else tuple(c.id for c in cat)
        for c in claims:
            cat.get(c)
        tasks.append(Task(args.game, beta, args.solver, parse_eta(args.eta, beta), args.steps, args.digits, claims,
                          args.ignore_hypotheses, not args.strict_floor, method=args.method,
                          start=_start_logits(args.start_logits, args.game), **_inexact_options(args)))
        suites.append("single-shot")
    else:
        if args.claim or args.eta or args.start_logits:
            raise InputError("--claim, --eta and --start-logits belong to the single-shot form "
                             "(--game --solver --beta)")
        targets = args.suites or [str(DEFAULT_SUITE if DEFAULT_SUITE.exists() else Path("checks/default.toml"))]
        for s in load_suites(targets, cat):
            suites.append(s.name)
            modules.extend(s.claim_modules)
            tasks.extend(Task(**{**t.__dict__, "method": args.method,
                                 "ignore_hypotheses": t.ignore_hypotheses or args.ignore_hypotheses})
                         for t in s.tasks)
            dims.extend(DimensionTask(**{**d.__dict__, "method": args.method}) for d in s.dimensions)
    start = time.monotonic()
    verdicts: list[Verdict] = []
    origin: dict[int, Task] = {}
    with Progress(len(tasks) + len(dims), "check") as bar:
        results = run_check_tasks(tasks, cat, modules, args.jobs, args.dask, lambda done: bar.update(done, "runs"))
        for task, vs in zip(tasks, results):
            for v in vs:
                assert isinstance(v, Verdict)
                origin[id(v)] = task
                verdicts.append(v)
        for j, dim in enumerate(dims):
            bar.update(len(tasks) + j, dim.label)
            verdicts.append(run_dimension(dim, cat, lambda n, j=j, dim=dim: bar.update(  # type: ignore[misc]
                len(tasks) + j, f"{dim.label}: n = {n} done")))
        bar.update(len(tasks) + len(dims))
    elapsed = time.monotonic() - start
    code = _exit_code(verdicts)
    if args.junit:
        _junit(args.junit, verdicts, elapsed)
    if args.report:
        write_report(args.report, verdicts, origin, cat, elapsed, code, suites)
    if args.json:
        print(json.dumps({"suites": suites, "elapsed_seconds": round(elapsed, 2), "exit_code": code,
                          "precision": _note(verdicts), "summary": _summary(verdicts, cat),
                          "verdicts": [v.as_dict() for v in verdicts]}, indent=2, ensure_ascii=False))
    else:
        _print_report(verdicts, cat, elapsed, code)
    return code


def _pick_for_plots(verdicts: Sequence[Verdict], origin: dict[int, Task], limit: int = 16) -> list[Verdict]:
    """Per claim: every violated (game, claim) first, then the tightest run; at most ``limit`` plots.

    Only claims on a per-iterate series (kinds ``bound`` and ``rate``) have a curve to draw; a static
    claim (one number per run, such as KL(π*‖π_ref)) or a step or dimension claim is in the tables only.
    """
    chosen: list[Verdict] = []
    seen: set[tuple[str, str]] = set()
    verdicts = [v for v in verdicts if v.kind in ("bound", "rate")]
    for v in verdicts:
        if v.status == "violated" and id(v) in origin and (v.game, v.claim) not in seen:
            seen.add((v.game, v.claim))
            chosen.append(v)
    for cid in dict.fromkeys(v.claim for v in verdicts):
        cands = [v for v in verdicts if v.claim == cid and v.tightness not in (None, "nan") and id(v) in origin
                 and v.status == "pass"]
        if cands:
            chosen.append(max(cands, key=lambda v: float(v.tightness or 0)))
    return chosen[:limit]


def write_report(directory: str, verdicts: Sequence[Verdict], origin: dict[int, Task], cat: Catalogue,
                 elapsed: float, code: int, suites: Sequence[str]) -> Path:
    """DIR/report.html: verdict table, provenance of every claim, a plot per failing or tightest claim."""
    import matplotlib

    matplotlib.use("Agg")
    from ..families import load_game
    from ..plots import plot_run, png_base64
    from ..report import html_page, html_table
    from ..solvers import make_solver

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    summary = _summary(verdicts, cat)
    sections = [("Summary", f"<p>Suites: {', '.join(suites)}. {len(verdicts)} verdicts in {elapsed:.1f} s; "
                 f"exit code {code}.</p><p>{_note(verdicts)}</p>" + html_table(
                     ["claim", "provenance", "pass", "equal", "violated", "inconclusive", "n/a", "expected",
                      "max obs/bound", "method"],
                     [[s["claim"], s["provenance"], str(s["pass"]), str(s["equality"]), str(s["violated"]),
                       str(s["inconclusive"]),
                       str(s["not-applicable"]), str(s["expected"]),
                       f"{s['worst_tightness']:.4g}" if s["worst_tightness"] is not None else "-", s["method"]]
                      for s in summary]))]
    notable = [v for v in verdicts if v.outcome in ("violated", "inconclusive", "expected")]
    if notable:
        sections.append(("Violations and inconclusive verdicts", html_table(
            ["claim", "outcome", "method", "game", "solver", "β", "η", "first k", "observed", "bound", "margin",
             "error/radius", "note"],
            [[v.claim, v.outcome, v.method, v.game, v.solver, v.beta, v.eta, str(v.first_k), v.observed or "-",
              v.bound or "-", v.margin or "-", v.error or "-", v.note] for v in notable[:200]])))
    sections.append(("Provenance of every claim", html_table(
        ["id", "provenance", "kind", "statement", "hypotheses", "source"],
        [[c.id, c.provenance, c.kind, c.text(), ", ".join(str(h) for h in c.hypotheses) or "-", c.source]
         for c in cat])))
    figures = []
    for v in _pick_for_plots(verdicts, origin):
        task = origin[id(v)]
        claim = cat.get(v.claim)
        solver = make_solver(task.solver, task.beta, task.eta)
        game = load_game(task.game)
        game = game.with_start(task.start) if task.start is not None else game
        fig = plot_run(game, [solver], task.steps, claim.metric, digits=min(task.digits, 40),
                       catalogue=cat, claim_ids=[claim.id], ignore_hypotheses=task.ignore_hypotheses,
                       title=f"{claim.id} [{claim.provenance}] on {task.game}, β = {v.beta}, η = {v.eta}")
        caption = (f"{claim.id} ({v.outcome}; max observed/bound {v.tightness or '-'}"
                   + (f"; first violation at k = {v.first_k}" if v.status == "violated" else "") + ")")
        figures.append(f"<figure><img src='data:image/png;base64,{png_base64(fig)}' alt='{claim.id}'>"
                       f"<figcaption>{caption}</figcaption></figure>")
    sections.append(("Failing and tightest runs", "".join(figures) or "<p>No plot.</p>"))
    path = out / "report.html"
    path.write_text(html_page("nashproof check report", sections), encoding="utf-8")
    return path


CHECK_EPILOG = """verdicts: pass, equality (the claim holds with equality, exit 0), violated, inconclusive,
  not-applicable; a suite may declare the outcome it expects.
examples:
  nashproof check                                   # checks/default.toml and the suites it includes
  nashproof check checks/default.toml --junit report.xml --report check-report
  nashproof check --game cyclic:n=5,skew=1/3 --solver nash-mp --beta 1/20 --eta 2 --steps 60 --claim NMP-KL-STEP
  nashproof check --game rps:skew=1/2 --solver nash-mp --beta 1/20 --eta 8 --claim NMP-KL-STEP --ignore-hypotheses
  nashproof check --claims-module my_claims.py --game rps --solver nash-mp --beta 1/10 --claim MY-CLAIM
"""


def register(sub: Any) -> None:
    p = sub.add_parser("claims", help="list the claim catalogue, or show one claim",
                       epilog="examples:\n  nashproof claims\n  nashproof claims NMP-KL-STEP\n"
                              "  nashproof claims --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("id", nargs="?", help="a claim id to show in full")
    p.add_argument("--claims-module", action="append", help="also load claims from a module or .py file")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(handler=cmd_claims)

    p = sub.add_parser("check", help="check claims on solver runs: a suite, or one run",
                       epilog=CHECK_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("suites", nargs="*", metavar="SUITE_OR_DIR", help="TOML suites or directories (default suite)")
    p.add_argument("--game", help="single shot: a game file or family spec")
    p.add_argument("--solver", help="single shot: solver name")
    p.add_argument("--beta", help="single shot: β > 0")
    p.add_argument("--eta", help="single shot: step (a rational, 'max' = just below η̄(β), or 'r*max')")
    p.add_argument("--steps", type=count(1, MAX_STEPS), default=60,
                   help=f"iterations, 1 to {MAX_STEPS} (default 60)")
    p.add_argument("--digits", type=DIGITS, default=50,
                   help=f"working precision D, {MIN_DIGITS} to {MAX_DIGITS} (default 50)")
    p.add_argument("--claim", action="append", help="claim id to check (repeatable; default: all)")
    p.add_argument("--start-logits", metavar="L1,L2,...",
                   help="single shot: start from π_0 ∝ exp(logits), exact rationals (n, or n − 1 with the last 0; "
                        "contexts separated by ';'), e.g. the counterexample prove prints")
    p.add_argument("--ignore-hypotheses", action="store_true", help="evaluate claims whose hypotheses are false")
    p.add_argument("--method", choices=("certified", "estimated"), default="certified",
                   help="certified: ball arithmetic, verdicts for every point of the balls (default); estimated: "
                        "precision doubling on mpmath (and float64 screening for NMP-DIM from n = 64)")
    p.add_argument("--power", help="probability claims: choose the number of runs so that a failure rate 2α is "
                   "found violated with this probability (e.g. 0.9); --runs overrides")
    p.add_argument("--confidence", help="probability claims (sampled solvers): the claim's 1 − α (default 0.95)")
    p.add_argument("--runs", type=count(0, MAX_RUNS), default=0,
                   help=f"probability claims: seeded runs R, at most {MAX_RUNS} (default: enough for 0 failures to "
                   "show rate ≤ α)")
    p.add_argument("--strict-floor", action="store_true",
                   help="also evaluate iterates below the rounding floor (they come out inconclusive)")
    p.add_argument("--claims-module", action="append", help="load extra or replacement claims (module or .py)")
    p.add_argument("--json", action="store_true", help="print JSON (every verdict) instead of tables")
    p.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report (its directory must exist)")
    p.add_argument("--report", metavar="DIR", help="also write DIR/report.html (self-contained, with plots)")
    p.add_argument("--jobs", type=JOBS, help="local worker processes (default: all cores); results do not depend on it")
    p.add_argument("--dask", metavar="ADDRESS", help="run the tasks on this Dask scheduler (optional extra 'dask')")
    p.set_defaults(handler=cmd_check)
