"""Corpus: torch implementations (float32 parameters that require grad, as in a training loop).

`NashMPModule` computes a Nash-MP step with torch in float32 and returns the tensor still attached to
the autograd graph. Expected: `--declared nash-mp --eta 2` CONSISTENT at float32's tolerance.
`sgd_step` trains a logits module by one SGD step on the regularized preference loss
−⟨π_θ, Pπ_k⟩ + β KL(π_θ‖π_ref) (float64). Expected: `--declared mmd` FLAGGED, diagnosis
"policy-gradient step in place of a mirror step".
"""
import torch


class NashMPModule(torch.nn.Module):
    def __init__(self, ref, beta, eta):
        super().__init__()
        self.log_ref = torch.nn.Parameter(torch.log(torch.as_tensor(ref, dtype=torch.float32)))
        self.beta, self.eta = float(beta), float(eta)

    def prox(self, log_pi, field):
        eb = self.eta * self.beta
        return torch.log_softmax((log_pi + eb * self.log_ref + self.eta * field) / (1 + eb), dim=-1)

    def forward(self, pi, P):
        P = torch.as_tensor(P, dtype=torch.float32)
        log_pi = torch.log(torch.as_tensor(pi, dtype=torch.float32))
        half = self.prox(log_pi, P @ torch.exp(log_pi))
        return torch.exp(self.prox(log_pi, P @ torch.exp(half)))


def update(pi, P, ref, beta, eta):
    return NashMPModule(ref, beta, eta)(pi, P)  # requires grad, float32


class Logits(torch.nn.Module):
    def __init__(self, pi):
        super().__init__()
        self.theta = torch.nn.Parameter(torch.log(torch.as_tensor(pi, dtype=torch.float64)))

    def forward(self):
        return torch.softmax(self.theta, dim=-1)


def sgd_step(pi, P, ref, beta, eta):
    model = Logits(pi)
    opt = torch.optim.SGD(model.parameters(), lr=eta)
    field = torch.as_tensor(P @ pi, dtype=torch.float64)
    log_ref = torch.log(torch.as_tensor(ref, dtype=torch.float64))
    probs = model()
    loss = -(probs @ field) + beta * (probs * (torch.log(probs) - log_ref)).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return model().detach().numpy()
