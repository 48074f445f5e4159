"""Command-line usage shared by all commands: the program's name as typed (for ``usage:`` lines), and usage
errors as one ``error:`` line plus a "did you mean" instead of argparse's full usage, which for ``fit`` is ~100
lines that bury the message. Imports nothing heavy: the standalone commands start without Lightning."""

from __future__ import annotations

import argparse
import difflib
import importlib
import re
import sys
from pathlib import Path
from typing import NoReturn

CONSOLE_SCRIPT = "inpaint-lightning"  # pyproject.toml [project.scripts]


def program_name() -> str:
    """``inpaint-lightning`` when run as the console script, else ``python -m inpaint_lightning`` (also what to
    type after an in-process call or ``python -m inpaint_lightning.cli``)."""
    script = Path(sys.argv[0]).stem if sys.argv else ""
    return CONSOLE_SCRIPT if script == CONSOLE_SCRIPT else "python -m inpaint_lightning"


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose errors go through :func:`exit_usage_error` (the standalone commands' parser)."""

    def parse_known_args(self, args=None, namespace=None):
        self._given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        # argparse reports missing required options before unknown ones: the typo (--imagse) would go unnamed.
        if "required" in message:
            flags = [s for action in self._actions for s in action.option_strings]
            given = [a.split("=")[0] for a in getattr(self, "_given", ()) if a.startswith("--")]
            if unknown := [a for a in given if not any(f.startswith(a) for f in flags)]:
                message = f"unrecognized arguments: {' '.join(unknown)}"
        exit_usage_error(self, message)


def exit_usage_error(
    parser: argparse.ArgumentParser, message: str, typed: list[str] | None = None
) -> NoReturn:
    """Print ``error: <message on one line>``, a "did you mean" if a name is unknown, where to find help; exit 2.
    ``typed``: the command line as given, so a suggestion is a ``--flag`` when the user typed a flag."""
    lines = [f"error: {condense(message)}"]
    if suggestion := did_you_mean(parser, message, typed):
        lines.append(f"did you mean {suggestion}?")
    if any(isinstance(action, argparse._HelpAction) for action in parser._actions):
        lines.append(f"({parser.prog.replace(' [options]', '')} --help for all options)")
    parser.exit(2, "\n".join(lines) + "\n")


def condense(message: str) -> str:
    """jsonargparse's multi-line message as one line: the key, the class it was given, the innermost reason."""
    header = re.match(r'Parser key "([^"]+)":[ \t]*\n?(.*)', message.strip(), re.S)
    if not header:
        return " ".join(message.split())
    key, rest = header.groups()
    lines = rest.splitlines()
    for i, line in enumerate(lines):  # a class's own error: the lines indented below its class_path problem
        if problem := re.search(r"Problem with given class_path '([^']+)':$", line):
            indent = len(line) - len(line.lstrip())
            block = []
            for inner in lines[i + 1 :]:
                if inner.strip() and len(inner) - len(inner.lstrip()) <= indent:
                    break
                block.append(inner.strip())
            return f"{key} ({problem[1]}): {condense(chr(10).join(block))}"
    expected = [
        x.strip()[2:].removeprefix("Expected a ") for x in lines if x.strip().startswith("- Expected")
    ]
    given = re.search(r"^\s*Given value: (.*)$", rest, re.M)
    if expected and given:  # a union of plain types: what each member accepts
        return f"{key}: Expected {' or '.join(expected)}. Got value: {given[1]}"
    return f"{key}: {' '.join(rest.split())}"


def did_you_mean(parser: argparse.ArgumentParser, message: str, typed: list[str] | None = None) -> str | None:
    """The valid name closest to the unknown one that ``message`` names (an option, a config key, a parameter of
    a class in init_args, a choice), written the way the user wrote it, or None."""
    if unknown := re.search(r"unrecognized arguments: (.*)", message):
        flags = [s for action in parser._actions for s in action.option_strings if s.startswith("--")]
        tokens = [t.split("=")[0] for t in unknown[1].split() if t.startswith("--")]
        return next((hit for t in tokens if (hit := closest(t, flags))), None)
    if choice := re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message):
        return closest(choice[1], re.findall(r"'([^']*)'", choice[2]))
    nested = re.search(
        r'Parser key "([^"]+)":.*?class_path \'([^\']+)\':\s*Option \'([^\']+)\'', message, re.S
    )
    if nested:
        key, class_path, name = nested.groups()
        hit = closest(name, _init_args(class_path))
        as_flag = any(t.split("=")[0] == f"--{key}.init_args.{name}" for t in typed or [])
        dash = (
            "--" if as_flag or "NestedArg(" in message else ""
        )  # typed as a flag, else a key in a config file
        return f"{dash}{key}.init_args.{hit}" if hit else None
    if option := re.search(
        r"(?:Group '([^']+)' )?(?:does not accept option|^Option) '([^']+)'", message, re.M
    ):
        group, name = option.groups()
        return closest(f"{group}.{name}" if group else name, [action.dest for action in parser._actions])
    return None


def closest(name: str, candidates: list[str]) -> str | None:
    """The candidate whose last dotted part is closest to ``name``'s (difflib), among those in the same group
    first (``trainer.max_stpes`` -> ``trainer.max_steps``), then among all (``trainer.batch_size`` ->
    ``data.batch_size``)."""
    group, _, leaf = name.rpartition(".")
    for pool in ([c for c in candidates if c.rpartition(".")[0] == group], candidates):
        by_leaf: dict[str, str] = {}
        for candidate in pool:
            by_leaf.setdefault(candidate.rpartition(".")[2], candidate)
        if hit := difflib.get_close_matches(leaf, list(by_leaf), n=1):
            return by_leaf[hit[0]]
    return None


def _init_args(class_path: str) -> list[str]:
    """The init_args keys jsonargparse accepts for ``class_path`` (empty if it cannot be imported)."""
    try:
        from jsonargparse import ArgumentParser as ClassParser

        module, _, name = class_path.rpartition(".")
        parser = ClassParser(exit_on_error=False)
        parser.add_class_arguments(getattr(importlib.import_module(module), name))
    except Exception:
        return []
    return [action.dest for action in parser._actions]
