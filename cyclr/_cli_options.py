"""The options of ``cyclr show`` for each policy, read from its constructor's signature.

Every constructor in ``cyclr.policies.POLICIES`` becomes options of ``show`` with no
code of its own: a parameter without a default is required, a ``Literal`` of strings
gives the choices, a bool becomes a flag, and the option is the parameter's name with
dashes. Each option's help is the first sentence of what the constructors' Google-style
``Args:`` say of it. The table is read on every parse, so a policy registered later is
offered too.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import types
import typing

from . import policies

# A constructor parameter whose name an option of ``show`` itself already has goes by
# another name: the anneal length ``steps`` of decay, linear and cosine is
# --decay-steps, since --steps is how many steps to show. When such a parameter is
# required and not given, the option of its own name stands in for it.
_RENAMED = {"steps": "decay_steps"}
# The argparse dests of show's own options, which no constructor parameter may take.
_SHOW_DESTS = frozenset({"policy", "from_file", "steps", "momentum", "width", "plot",
                         "size", "csv", "run", "subparser", "policy_options",
                         "command"})


def number(text: str) -> int | float:
    """A number as typed: ``"2000"`` stays an int (so messages and reprs echo it as
    given), anything else goes through ``float`` (``"1e-3"``, ``"inf"``).

    As an argparse ``type`` its name is what argparse reports: "invalid number value".
    """
    try:
        return int(text)
    except ValueError:
        return float(text)


def flag(dest: str) -> str:
    """The option of an argparse ``dest``: ``"decay_steps"`` is ``--decay-steps``."""
    return "--" + dest.replace("_", "-")


@dataclasses.dataclass(frozen=True)
class PolicyOption:
    """One parameter of a policy's constructor, as an option of ``cyclr show``.

    Attributes:
        param: the constructor's name for it.
        dest: argparse's name; the option is ``--dest`` with dashes.
        kind: ``"number"`` (int or float as typed), ``"int"``, ``"choice"`` (a
            ``Literal``) or ``"flag"`` (a bool).
        choices: the values a choice takes.
        required: the parameter has no default.
        default: its default, when it has one.
        positional: the parameter is positional-only.
    """

    param: str
    dest: str
    kind: str
    choices: tuple = ()
    required: bool = True
    default: typing.Any = None
    positional: bool = False

    @property
    def flag(self) -> str:
        return flag(self.dest)


def _option_kind(hint) -> tuple[str | None, tuple]:
    """The option kind of a resolved type hint, and its choices; None for a type the
    command line cannot give (a function, a schedule)."""
    if typing.get_origin(hint) is typing.Literal:
        values = typing.get_args(hint)
        return ("choice", values) if all(isinstance(x, str) for x in values) else (None, ())
    if hint is bool:
        return "flag", ()
    if hint is int:
        return "int", ()
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = set(typing.get_args(hint))
    else:
        members = {hint}
    if members & {int, float} and members <= {int, float, type(None)}:
        return "number", ()
    return None, ()


def policy_options(name: str, constructor) -> tuple[PolicyOption, ...]:
    """The ``show`` options of a constructor, read from its signature: a parameter
    without a default is required, a ``Literal`` gives the choices, a bool becomes a
    flag (``--three-phase``), and the option is the parameter's name with dashes
    (``_RENAMED`` says where it is not).

    An optional parameter of a type the command line cannot give (a ``scale_fn``) is
    left out.

    Raises:
        TypeError: for a required parameter the command line cannot give, or one that
            would take the name of an option of ``show`` itself, naming both.
    """
    hints = typing.get_type_hints(constructor)
    options = []
    for p in inspect.signature(constructor).parameters.values():
        required = p.default is inspect.Parameter.empty
        variadic = p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        kind, choices = (None, ()) if variadic else _option_kind(hints.get(p.name))
        if kind is None:
            if required and not variadic:
                raise TypeError(f"cyclr show cannot offer {name}: its parameter {p.name!r} "
                                f"({hints.get(p.name, p.annotation)!r}) is required and is "
                                f"not a number, an int, a bool or a Literal of strings")
            continue
        dest = _RENAMED.get(p.name, p.name)
        if dest in _SHOW_DESTS:
            raise TypeError(f"cyclr show cannot offer {name}: its parameter {p.name!r} "
                            f"has the name of show's own option {flag(dest)}; give it "
                            f"another in cyclr._cli_options._RENAMED")
        options.append(PolicyOption(p.name, dest, kind, tuple(choices), required,
                                    None if required else p.default,
                                    p.kind is p.POSITIONAL_ONLY))
    return tuple(options)


def all_policy_options() -> dict[str, tuple[PolicyOption, ...]]:
    """The options of every policy in ``cyclr.policies.POLICIES``, by name.

    Read on every parse, not at import: a policy registered later shows up too.
    """
    return {name: policy_options(name, f) for name, f in policies.POLICIES.items()}


def _arg_docs(function, depth: int = 0) -> dict[str, str]:
    """Each parameter's description in ``function``'s Google-style ``Args:`` section,
    first sentence only, following "as for :func:`other`" to ``other``'s own."""
    docs: dict[str, str] = {}
    names: list[str] = []
    lines = (inspect.getdoc(function) or "").splitlines()
    if "Args:" not in lines:
        return docs
    for line in lines[lines.index("Args:") + 1:]:
        if line and not line.startswith(" "):
            break                                   # the next section
        entry = re.match(r"^ {4}(\w[\w, ]*):\s*(.*)$", line)
        if entry:
            names = [n.strip() for n in entry.group(1).split(",")]
            for n in names:
                docs[n] = entry.group(2)
        elif line.strip():
            for n in names:
                docs[n] += " " + line.strip()
    for n, text in docs.items():
        see = re.fullmatch(r"as for :func:`(\w+)`\.?", text)
        other = getattr(policies, see.group(1), None) if see else None
        if other is not None and depth < 3:
            text = _arg_docs(other, depth + 1).get(n, "")
        text = re.split(r"\.(?:\s|$)", _plain(text))[0]
        docs[n] = text
    return docs


def _plain(text: str) -> str:
    """reST literals as help text shows them: ``"cos"`` as "cos", ``steps`` as `steps`."""
    return text.replace('``"', '"').replace('"``', '"').replace("``", "`")


def _option_help(options: list[tuple[str, PolicyOption]]) -> str:
    """The help of one option: what each policy taking it says it is, policies that
    say the same grouped."""
    said: dict[str, list[str]] = {}
    for name, option in options:
        text = _arg_docs(policies.POLICIES[name]).get(option.param, "") or option.param
        if not option.required and option.kind != "flag" and option.default is not None:
            text += f" (default {option.default!r})"
        said.setdefault(text, []).append(name)
    help_ = "; ".join(f"{', '.join(names)}: {text}" for text, names in said.items())
    renamed = {o.param for _, o in options if o.param != o.dest}
    if renamed:
        help_ += (f". The functions' {', '.join(map(repr, sorted(renamed)))}, renamed "
                  f"for --steps (the steps shown), which stands in when this is not given")
    # argparse formats help with %: a literal percent sign is doubled.
    return help_.replace("%", "%%")


def _renamed_users(table) -> dict[tuple[str, str], list[str]]:
    users: dict[tuple[str, str], list[str]] = {}
    for name, options in table.items():
        for o in options:
            if o.param != o.dest:
                users.setdefault((o.param, o.dest), []).append(name)
    return users


def _policy_usage(name: str, options) -> str:
    return f"{name}: " + " ".join(o.flag if o.required else f"[{o.flag}]" for o in options)


def policies_epilog(table) -> str:
    """The end of ``show``'s help: each policy's options, then the renamed ones."""
    usages = "; ".join(_policy_usage(name, options) for name, options in table.items())
    renamed = "".join(f". The {param!r} of {', '.join(names)} is {flag(dest)}, since "
                      f"{flag(param)} is show's own option; without {flag(dest)}, "
                      f"{flag(param)} is both"
                      for (param, dest), names in _renamed_users(table).items())
    return (f"Each policy takes the arguments of the cyclr function of its name, as "
            f"options: {usages}{renamed}.")


def add_policy_options(show: argparse.ArgumentParser, table) -> None:
    """Add to ``show`` one option per ``dest`` of ``table`` (policy name -> its
    options), shared by the policies that take it.

    Raises:
        TypeError: for an option that would be of two kinds for different policies.
    """
    by_dest: dict[str, list[tuple[str, PolicyOption]]] = {}
    for name, options in table.items():
        for option in options:
            by_dest.setdefault(option.dest, []).append((name, option))
    group = show.add_argument_group(
        "policy options", "each says which policies take it and what it is for them")
    for dest, users in by_dest.items():
        kinds = {option.kind for _, option in users}
        if len(kinds) > 1:
            raise TypeError(f"{flag(dest)} would be {' and '.join(sorted(kinds))} for "
                            f"different policies ({', '.join(n for n, _ in users)})")
        kind = kinds.pop()
        keywords: dict = {"dest": dest, "help": _option_help(users)}
        if kind == "flag":
            on_by_default = any(o.default is True for _, o in users)
            keywords.update(action=argparse.BooleanOptionalAction if on_by_default
                            else "store_true", default=None)
        elif kind == "choice":
            # Every policy's choices; each policy's own are checked once it is known.
            keywords["choices"] = list(dict.fromkeys(c for _, o in users for c in o.choices))
        else:
            keywords.update(type=int if kind == "int" else number, metavar=dest.upper())
        group.add_argument(flag(dest), **keywords)
