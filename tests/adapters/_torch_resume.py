"""Resume training from checkpoints in a fresh process (run by test_torch_state.py).

Usage: python _torch_resume.py JOBS.json
JOBS.json holds a list of {"config": ..., "checkpoint": path, "steps": n}. For each job
this rebuilds the optimizer and scheduler from the config, loads the checkpoint with
``torch.load(weights_only=True)``, trains ``steps`` more updates and reports, as JSON on
stdout, the hyper-parameters every update used and the final parameters; or the error
that ``load_state_dict`` raised.
"""

import json
import sys

import torch

from _torch_helpers import build, train


def resume(job: dict) -> dict:
    params, opt, sched = build(job["config"])
    checkpoint = torch.load(job["checkpoint"], weights_only=True)
    with torch.no_grad():
        for p, saved in zip(params, checkpoint["params"]):
            p.copy_(saved)
    opt.load_state_dict(checkpoint["optimizer"])
    try:
        sched.load_state_dict(checkpoint["scheduler"])
    except ValueError as exc:
        return {"error": str(exc)}
    seen = train(params, opt, sched, job["steps"])
    return {"seen": seen, "params": [p.detach().tolist() for p in params],
            "last_epoch": sched.last_epoch}


def main() -> None:
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    print(json.dumps([resume(job) for job in jobs]))


if __name__ == "__main__":
    main()
