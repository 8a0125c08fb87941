"""The audit's report: findings, identification, verdict and exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ..numbers import fraction_str
from ..verify import Verdict


@dataclass
class Finding:
    kind: str  # validation | conformance | identification | determinism
    failed: bool
    message: str
    game: str = ""
    context: str = ""
    start: str = ""
    beta: str = ""
    error: float | None = None
    tolerance: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


@dataclass
class Identification:
    """What explains the steps: a class of rules (or a named bug) per β, or nothing."""

    rule: str
    eta: str
    residual: float
    explains: bool
    summary: str = ""
    ranking: list[tuple[str, str, float]] = field(default_factory=list)


@dataclass
class AuditReport:
    declared: str
    eta: Fraction | None
    betas: list[Fraction]
    checked_steps: int = 0
    worst_ratio: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    identification: Identification | None = None
    claims: list[Verdict] = field(default_factory=list)
    source: str = ""
    step: str = ""
    fitted: str = ""
    precision: str = "float64"
    inconclusive: str = ""

    @property
    def consistent(self) -> bool:
        return not any(f.failed for f in self.findings) and not self.inconclusive

    @property
    def exit_code(self) -> int:
        if any(f.failed for f in self.findings):
            return 1
        return 3 if self.inconclusive or self.checked_steps == 0 else 0

    @property
    def verdict(self) -> str:
        return {0: "CONSISTENT", 1: "FLAGGED", 3: "INCONCLUSIVE"}[self.exit_code]

    def as_dict(self) -> dict[str, object]:
        ident = self.identification
        return {
            "source": self.source, "declared": self.declared, "step": self.step,
            "eta": None if self.eta is None else fraction_str(self.eta), "fitted_step": self.fitted or None,
            "betas": [fraction_str(b) for b in self.betas], "precision": self.precision,
            "verdict": self.verdict, "consistent": self.consistent, "inconclusive": self.inconclusive or None,
            "checked_steps": self.checked_steps, "worst_error_over_tolerance": self.worst_ratio,
            "first_departure": next((f.as_dict() for f in self.findings if f.failed), None),
            "findings": [f.as_dict() for f in self.findings],
            "identification": None if ident is None else {
                "rule": ident.rule, "eta": ident.eta, "residual": ident.residual, "explains": ident.explains,
                "summary": ident.summary,
                "ranking": [{"rule": r, "eta": e, "worst_error_over_tolerance": x} for r, e, x in ident.ranking]},
            "claims": [v.as_dict() for v in self.claims],
            "exit_code": self.exit_code,
        }
