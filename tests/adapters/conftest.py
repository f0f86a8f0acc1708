"""Fixtures shared by the adapter tests."""

import pytest


@pytest.fixture(scope="module")
def torch_one_thread():
    """One torch thread while a module's tiny models train: on a shared 2-core machine
    more threads only add contention."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
