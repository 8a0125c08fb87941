"""``nashproof prove``: certified proofs of for-every-π claims over boxes of logits (branch and bound in balls)."""
