"""Run progress: one console line per component, even after a library lowers absl's level."""

import io
import logging

from polarity import progress


def test_progress_lines_survive_a_library_setting_absl_to_warning(tmp_path):
    stream = io.StringIO()
    absl = logging.getLogger("absl")
    level_before = absl.level
    with progress.capture_run_logs(tmp_path / "run.log", stream=stream) as seen:
        absl.info("Component %s is running.", "Transform")
        absl.setLevel(logging.WARNING)  # what a library did mid-run
        absl.info("Component %s is finished.", "Transform")
        absl.info("Component %s is running.", "Trainer")
    lines = stream.getvalue().splitlines()
    assert lines[0].split() == ["Transform", "running..."]
    assert lines[1].startswith("  Transform") and "done in" in lines[1]
    assert lines[2].split() == ["Trainer", "running..."]
    assert set(seen.durations) == {"Transform"}
    assert "Component Trainer is running." in (tmp_path / "run.log").read_text(encoding="utf-8")
    absl.setLevel(logging.ERROR)  # setLevel works again once the run is over
    assert absl.level == logging.ERROR
    absl.setLevel(level_before)
