"""A scheme that answers wrong on purpose, one way per mode (argv[1]); from cycle argv[2] on (default 0)."""
import json
import sys

sys.path.insert(0, "examples/schemes")
from proportional import allocate  # noqa: E402

mode = sys.argv[1]
from_cycle = int(sys.argv[2]) if len(sys.argv) > 2 else 0

for line in sys.stdin:
    problem = json.loads(line)
    good = allocate(problem)
    if problem["cycle"] < from_cycle:
        print(json.dumps(good), flush=True)
        continue
    batch, tau = good["batch"], good["tau"]
    if mode == "sum":
        batch[0] -= 1
        out = json.dumps({"batch": batch, "tau": tau})
    elif mode == "late":
        out = json.dumps({"batch": batch, "tau": tau + 1})
    elif mode == "tau0":
        out = json.dumps({"batch": batch, "tau": 0})
    elif mode == "float":
        batch[0] -= 0.5
        batch[1] += 0.5
        out = json.dumps({"batch": batch, "tau": tau})
    elif mode == "notjson":
        out = "batch: " + str(batch)
    elif mode == "extra":
        out = json.dumps(good) + "\ndebug: done"
    elif mode == "extra-split":
        # the extra line's end arrives only after the next problem has been sent
        print(json.dumps(good) + "\ndebug: do", end="", flush=True)
        import time
        time.sleep(0.5)
        out = "ne"
    elif mode == "infeasible":
        out = json.dumps({"infeasible": "my solver gave up"})
    elif mode == "crash":
        print("Traceback (most recent call last):\nZeroDivisionError: division by zero", file=sys.stderr, flush=True)
        sys.exit(3)
    elif mode == "sleep":
        import time
        time.sleep(60)
        out = json.dumps(good)
    print(out, flush=True)
