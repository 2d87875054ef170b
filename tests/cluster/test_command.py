"""The container's command decides how long a run lasts and how it ends, where the fake can read it."""

from __future__ import annotations

import pytest

from mockserver.cluster.command import CommandPlan, plan_from_command


@pytest.mark.parametrize(
    ("command", "args", "plan"),
    [
        ("sleep 30", None, CommandPlan(30, True)),
        ("/bin/sleep 1m", None, CommandPlan(60, True)),
        ("sleep 1 2.5", None, CommandPlan(3.5, True)),
        (None, "sleep 2", CommandPlan(2, True)),
        ("sleep", "5", CommandPlan(5, True)),
        ("sh -c 'sleep 3; exit 0'", None, CommandPlan(3, True)),
        ("bash", "-c 'sleep 5 && exit 1'", CommandPlan(5, False)),
        ('sh -c "echo hi; sleep 2; false"', None, CommandPlan(2, False)),
        ("false; sleep 3", None, CommandPlan(3, True)),  # `;` goes on after a failure
        ("false && sleep 3", None, CommandPlan(0, False)),  # `&&` does not
        ("exit 3", None, CommandPlan(0, False)),
        ("exit 0; sleep 9", None, CommandPlan(0, True)),
        ("true", None, CommandPlan(0, True)),
        # NeMo-Run's data mover (a workspace): file chores, piped and redirected, end at once and succeed.
        (
            "sh -c",
            "'rm -rf /nemo_run/x && mkdir -p /nemo_run/x && echo H4sIAAAA | base64 -d > /nemo_run/x/a.tar.gz"
            " && tar -xzf /nemo_run/x/a.tar.gz -C /nemo_run/x && rm /nemo_run/x/a.tar.gz'",
            CommandPlan(0, True),
        ),
        ("mkdir -p /data 2>/dev/null; sleep 4", None, CommandPlan(4, True)),
        ("cat a | tar -xz -C /d; exit 2", None, CommandPlan(0, False)),
    ],
)
def test_readable_commands(command, args, plan):
    assert plan_from_command(command, args) == plan


@pytest.mark.parametrize(
    "command",
    [
        None,
        "",
        "python train.py",
        "/bin/bash /nemo_run/launch_script.sh",
        "sleep 3 | cat",
        "python train.py | tee log.txt",  # a pipeline with a program in it: its time is unknown
        "tar -xzf a.tgz > /dev/null 2>&1",  # `&` of `2>&1` reads as a background job: left alone
        "sleep 3 || true",
        "sleep forever",
        "sh -c 'sleep 3",  # unbalanced quote
        "exit $CODE",
    ],
)
def test_unreadable_commands_leave_it_to_the_config(command):
    assert plan_from_command(command, None) is None
