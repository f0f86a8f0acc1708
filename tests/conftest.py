"""Hypothesis profiles: "ci" (deterministic, no deadline) is used when CI is set or
HYPOTHESIS_PROFILE=ci; "dev" is the default; "thorough" runs many more examples. Also
the torch tests' one-thread fixture."""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=150, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=100)
settings.register_profile("thorough", deadline=None, max_examples=2000)

_default = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))


def pytest_sessionfinish(session, exitstatus):
    """In CI every test must run: a skipped test (say, a missing framework) fails the run."""
    if not os.environ.get("CI") or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        for report in skipped:
            reporter.write_line(f"SKIPPED IN CI (not allowed): {report.nodeid}", red=True)
        session.exitstatus = 1


@pytest.fixture(scope="module")
def torch_one_thread():
    """One torch thread while a module's tiny models train: on a shared 2-core machine
    more threads only add contention. (torch is imported only by modules that ask.)"""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
