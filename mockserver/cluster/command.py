"""What a container's command says about its run: how long it sleeps and how it exits.

Users write `sleep 30` and expect thirty seconds, `exit 1` and expect a failure, so the fake reads the
common shapes: `sleep N`, `sh -c 'sleep 3; exit 0'`, `bash -c "…"`, `/bin/sleep 5 && false`, and the same
in `args`. File chores (`rm`, `mkdir`, `tar`, `base64` …, piped or redirected) take no time and succeed:
that is how a data mover (NeMo-Run's `rm -rf D && mkdir -p D && echo … | base64 -d > D/a.tgz && tar -xzf
…`) ends in seconds. Anything it cannot read fully leaves the decision to the configuration.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

_SHELLS = {"sh", "bash", "dash", "ash", "zsh"}
_SUFFIX = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_SEPARATORS = {";", "&&", "\n"}
# Commands that work on a job's files and end in a moment; in a pipeline or on their own they succeed.
_FILE_CHORES = frozenset(
    {"rm", "mkdir", "tar", "base64", "cp", "mv", "touch", "cat", "ls", "cd", "chmod", "chown", "ln", "gzip"}
    | {"gunzip", "printf", "echo", "true", ":", "pwd"}
)
_REDIRECTIONS = frozenset({">", ">>", "<", "1>", "2>", "1>>", "2>>"})


@dataclass(frozen=True)
class CommandPlan:
    """The run a command describes: seconds of sleep, and whether it ends well."""

    seconds: float
    succeeds: bool


def plan_from_command(command: str | None, args: str | None) -> CommandPlan | None:
    """The plan of `command` followed by `args`, or None when the fake cannot tell."""
    text = " ".join(part for part in (command, args) if part and part.strip())
    if not text:
        return None
    return _plan_script(text, depth=0)


def _shell_script(words: list[str]) -> str | None:
    """The script of `sh -c '…'` (and its relatives), or None for any other command."""
    program = words[0].rsplit("/", 1)[-1]
    if program in _SHELLS and len(words) >= 3 and words[1] in ("-c", "-lc", "-ec"):
        return words[2]
    return None


def _plan_script(script: str, depth: int) -> CommandPlan | None:
    """A script of simple statements joined by `;`, `&&` or new lines."""
    try:
        lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.whitespace = " \t\r"
        tokens = list(lexer)
    except ValueError:
        return None
    # Each statement (the commands of its pipeline) with the separator after it: a failure before `;`
    # does not end the script, a failure before `&&` (or at the end) does.
    statements: list[tuple[list[list[str]], str]] = [([[]], "")]
    for token in tokens:
        if token in _SEPARATORS:
            statements[-1] = (statements[-1][0], token)
            statements.append(([[]], ""))
        elif token == "|":
            statements[-1][0].append([])
        elif token in ("||", "&", "|&"):
            return None  # alternatives and background jobs: the outcome is not readable
        else:
            statements[-1][0][-1].append(token)
    seconds = 0.0
    for pipeline, separator in statements:
        commands = [_without_redirections(words) for words in pipeline]
        if not any(commands):
            continue
        step = _pipeline(commands, depth)
        if step is None:
            return None
        slept, succeeded, exits = step
        seconds += slept
        if exits or (not succeeded and separator in ("&&", "")):
            return CommandPlan(seconds, succeeded)
    return CommandPlan(seconds, True)


def _without_redirections(words: list[str]) -> list[str]:
    """The words of a command without its redirections (`> file`, `2>/dev/null`): they change no timing."""
    kept: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _REDIRECTIONS:
            skip = True  # the file name follows
        elif not word.lstrip("12").startswith((">", "<")):
            kept.append(word)
    return kept


def _pipeline(commands: list[list[str]], depth: int) -> tuple[float, bool, bool] | None:
    """A lone command is read as a statement; a pipeline only when every command in it is a file chore."""
    if len(commands) == 1:
        return _statement(commands[0], depth)
    if all(words and words[0].rsplit("/", 1)[-1] in _FILE_CHORES for words in commands):
        return 0.0, True, False
    return None


def _statement(words: list[str], depth: int) -> tuple[float, bool, bool] | None:
    """(seconds slept, succeeded, ends the script), or None when the statement is unreadable."""
    program = words[0].rsplit("/", 1)[-1]
    if program == "sleep" and len(words) >= 2:
        total = 0.0
        for word in words[1:]:
            match = _DURATION.match(word)
            if match is None:
                return None
            total += float(match.group(1)) * _SUFFIX[match.group(2)]
        return total, True, False
    if program == "exit":
        if len(words) > 1 and not words[1].isdigit():
            return None
        return 0.0, len(words) == 1 or int(words[1]) == 0, True
    if program in _FILE_CHORES:
        return 0.0, True, False
    if program == "false" and len(words) == 1:
        return 0.0, False, False
    script = _shell_script(words)
    if script is not None and depth < 3:
        plan = _plan_script(script, depth + 1)
        return None if plan is None else (plan.seconds, plan.succeeds, False)
    return None
