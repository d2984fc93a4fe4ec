"""The run report, the timeline and the model card as a reader's browser shows them:
headless Chromium (Debian's `chromium` package) opens each file offline, with no console
error, no request beyond the file itself, and every chart drawn."""

import pathlib

import pytest
from browser_helpers import CHROMIUM, inspect_page

from polarity import metadata, model_card, report_commands

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: apt-get install -y chromium (Debian's package)"
)

RUN_REPORT_CHARTS = [
    "Class balance",
    "Text length",
    "Rows per source",
    "Confusion matrix (candidate)",
    "Reliability diagram",
    "ROC curves",
    "Precision-recall curves",
]


def _assert_read_well(seen: dict, charts: list, title: str) -> None:
    assert seen["problems"] == []
    assert seen["requests"] == [], "the file must open offline: nothing fetched"
    assert seen["title"] == title
    assert [svg["title"] for svg in seen["svgs"]] == charts
    for svg in seen["svgs"]:
        assert svg["width"] > 100 and svg["height"] > 50, svg
        assert svg["drawn"] > 10, f"chart {svg['title']!r} is empty: {svg}"


@pytest.fixture(scope="module")
def store(trained_workspace):
    config, _ = trained_workspace
    return metadata.open_store(config.metadata_path)


def test_run_report_opens_offline_with_every_chart_drawn(trained_workspace, store, tmp_path):
    config, summary = trained_workspace
    path = report_commands.write_run_report(
        config, store, run_id=summary["run_id"], output=tmp_path / "report.html"
    )
    seen = inspect_page(path, tmp_path / "report.png")
    _assert_read_well(seen, RUN_REPORT_CHARTS, f"Polarity run {summary['run_id']}")
    assert (tmp_path / "report.png").stat().st_size > 50_000


def test_timeline_opens_offline_with_its_charts(trained_workspace, store, tmp_path):
    config, _ = trained_workspace
    path = report_commands.write_timeline(config, store, output=tmp_path / "timeline.html")
    seen = inspect_page(path, tmp_path / "timeline.png")
    _assert_read_well(
        seen,
        ["Accuracy per slice", "Version served after each run"],
        f"Polarity timeline: {config.pipeline_name}",
    )


def test_model_card_opens_offline(trained_workspace, store, tmp_path):
    config, summary = trained_workspace
    path = pathlib.Path(model_card.write_card(config, store, int(summary["pushed_version"])))
    seen = inspect_page(path, tmp_path / "card.png")
    _assert_read_well(
        seen, [], f"Model card: {config.serving.model_name} version {summary['pushed_version']}"
    )
