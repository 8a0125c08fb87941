"""Corpus (the README's "auditing a trainer"): a class-based torch learner, Nash-MD with sampled opponents.

`NashMDTrainer` keeps logits as a torch parameter; each step mixes the policy with the reference
(geometric mixture, weight ηβ), draws opponents from the mixture at temperature 0.9 and moves the logits
along the estimated preference. `update` is the adapter the audit calls, with the opponents' expectation
(deterministic); `update_sampled` draws 256 opponents per step (stochastic).

Expected: `update` declared `--declared nash-md --eta 1/5` FLAGGED, "opponents at temperature 9/10";
with `--opponent-temperature 9/10` CONSISTENT; `update_sampled` with `--opponent-temperature 9/10
--samples 64` CONSISTENT (and FLAGGED by the determinism check without --samples).
"""
import torch


class NashMDTrainer:
    def __init__(self, init_probs, ref_probs, beta, lr, temperature=0.9, opponents=None):
        self.logits = torch.nn.Parameter(torch.log(torch.as_tensor(init_probs, dtype=torch.float64)))
        self.ref_logits = torch.log(torch.as_tensor(ref_probs, dtype=torch.float64))
        self.beta, self.lr, self.temperature, self.opponents = beta, lr, temperature, opponents

    def policy(self):
        return torch.softmax(self.logits, dim=-1)

    def step(self, preference):
        P = torch.as_tensor(preference, dtype=torch.float64)
        w = self.lr * self.beta
        mixture = torch.log_softmax((1 - w) * self.logits + w * self.ref_logits, dim=-1)
        opponent = torch.softmax(mixture / self.temperature, dim=-1)
        if self.opponents is None:
            field = P @ opponent
        else:
            ys = torch.multinomial(opponent, self.opponents, replacement=True)
            field = P[:, ys].mean(dim=1)
        with torch.no_grad():
            self.logits.copy_(mixture + self.lr * field)
        return self.policy()


def update(pi, P, ref, beta, eta):
    return NashMDTrainer(pi, ref, beta, eta).step(P)


def update_sampled(pi, P, ref, beta, eta):
    return NashMDTrainer(pi, ref, beta, eta, opponents=256).step(P)
