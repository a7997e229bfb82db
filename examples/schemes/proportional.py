#!/usr/bin/env python3
"""An allocation scheme for the MEL emulator as a process (standard library only).

Heuristic: give each learner a batch proportional to its compute speed, then the largest common tau
that every learner with samples can still finish within T_s. Run it with
  npm run allocate -- --K 20 --T 12 --schemes optimal,eta,mine --scheme-cmd "mine=python3 examples/schemes/proportional.py"
Protocol (docs/schemes.md): one JSON problem per line on stdin, one JSON answer per line on stdout;
anything else (debug output) goes to stderr, which the emulator copies into the run's log.
"""
import json
import math
import sys


def proportional_batches(speeds, d):
    """Integer batches proportional to speeds summing to d: floors, then the largest remainders."""
    total = sum(speeds)
    exact = [d * s / total for s in speeds]
    batch = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(speeds)), key=lambda k: (-(exact[k] - batch[k]), k))
    for k in by_remainder[: d - sum(batch)]:
        batch[k] += 1
    return batch


def fits(l, tau, d_k, T_s):
    # The same arithmetic as the emulator's check: c2*tau*d + c1*d + c0 <= T_s.
    return l["c2"] * tau * d_k + l["c1"] * d_k + l["c0"] <= T_s


def largest_common_tau(learners, batch, T_s):
    taus = []
    for l, d_k in zip(learners, batch):
        if d_k == 0:
            continue
        tau = math.floor((T_s - l["c0"] - l["c1"] * d_k) / (l["c2"] * d_k))
        while tau > 0 and not fits(l, tau, d_k, T_s):
            tau -= 1
        taus.append(tau)
    return min(taus)


def allocate(problem):
    learners, T_s, d = problem["learners"], problem["T_s"], problem["d"]
    # c2 = C_m / f_k: compute speed is proportional to 1/c2. A learner that cannot even exchange
    # the model within T_s (c0 >= T_s) gets nothing.
    speeds = [1 / l["c2"] if l["c0"] < T_s else 0.0 for l in learners]
    if sum(speeds) == 0:
        return {"infeasible": "no learner can exchange the model within T_s"}
    batch = proportional_batches(speeds, d)
    tau = largest_common_tau(learners, batch, T_s)
    if tau < 1:
        return {"infeasible": f"batches proportional to speed leave no time for one iteration (T_s = {T_s} s)"}
    print(f"cycle {problem['cycle']}: tau = {tau}", file=sys.stderr)
    return {"batch": batch, "tau": tau}


if __name__ == "__main__":
    for line in sys.stdin:
        print(json.dumps(allocate(json.loads(line))), flush=True)
