"""The polarity command's errors: exit codes and messages a user can act on."""

import pytest
from workspace_helpers import run_cli


def test_unknown_flag_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_cli("run", "--epochs", "3")
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --epochs" in capsys.readouterr().err


def test_bad_config_value_exits_2_naming_the_key(tmp_path, capsys):
    assert run_cli("run", "--workspace", str(tmp_path), "--set", "training.batch_size=zero") == 2
    assert "training.batch_size" in capsys.readouterr().err


def test_run_without_data_says_how_to_get_some(tmp_path, capsys):
    assert run_cli("run", "--workspace", str(tmp_path)) == 2
    assert "polarity data" in capsys.readouterr().err


def test_status_before_any_run_says_so(tmp_path, capsys):
    assert run_cli("status", "--json", "--workspace", str(tmp_path)) == 2
    assert "nothing has run in this workspace yet" in capsys.readouterr().err


def test_data_command_writes_a_span(tmp_path, capsys):
    assert run_cli("data", "--workspace", str(tmp_path), "--limit", "30") == 0
    assert "span-1: 30 reviews (written)" in capsys.readouterr().out
    assert (tmp_path / "data" / "span-1" / "reviews.csv").is_file()


def test_a_span_with_non_utf8_bytes_is_refused_naming_file_and_line(tmp_path, capsys):
    span = tmp_path / "data" / "span-1"
    span.mkdir(parents=True)
    (span / "reviews.csv").write_bytes(b"text,label,source\nfine film,1,imdb\ncaf\xe9 cr\xe8me,1,imdb\n")
    assert run_cli("run", "--workspace", str(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "Run halted before it started" in err
    assert "reviews.csv line 3: byte 0xe9 at column 4 is not UTF-8" in err
    assert not (tmp_path / "metadata.sqlite").exists()
