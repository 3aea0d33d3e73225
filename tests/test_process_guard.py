"""The suite's guard against processes a test leaves running: such a test fails, and its processes are stopped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).with_name("conftest.py")

LEAKY_TESTS = """
import subprocess


def test_leaves_a_process_running(tmp_path):
    process = subprocess.Popen(["sleep", "600"])
    (tmp_path.parent.parent / "leaked.pid").write_text(str(process.pid))


def test_stops_its_process():
    process = subprocess.Popen(["sleep", "600"])
    process.kill()
    process.wait()
"""


def test_a_test_that_leaves_a_process_running_fails_and_the_process_is_stopped(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(test_leaky=LEAKY_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly", f"--basetemp={pytester.path / 'tmp'}")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*test_leaves_a_process_running left 1 process running: PID * (sleep 600)*"])
    leaked_pid = int((pytester.path / "leaked.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(leaked_pid, 0)
