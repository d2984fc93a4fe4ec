"""Publishing model versions on a local path and on a file system that is not (TF's ram://)."""

import pathlib

import pytest
import tensorflow as tf
from saved_model_helpers import SCALE, files_under, load_and_call, ram_location, save_small_model

from serving import model_dir


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> str:
    """A small real SavedModel in a local folder."""
    return save_small_model(tmp_path_factory.mktemp("model") / "export")


@pytest.fixture
def ram_base(tmp_path, monkeypatch):
    """A model base path on ram://, with the working directory in tmp_path (to catch a local `ram:`)."""
    monkeypatch.chdir(tmp_path)
    with ram_location() as base:
        yield f"{base}/polarity"
    assert not (tmp_path / "ram:").exists(), "a ram:// path was written as a local folder"


@pytest.fixture(params=["local", "ram"])
def base(request, tmp_path, ram_base):
    return str(tmp_path / "serving" / "polarity") if request.param == "local" else ram_base


def test_a_version_published_on_ram_is_complete_and_loads_from_there(saved_model, ram_base):
    published = model_dir.publish(saved_model, ram_base, 7)
    assert published == f"{ram_base}/7"
    assert model_dir.list_versions(ram_base) == [7]
    assert files_under(published) == files_under(saved_model)
    names = {"saved_model.pb", "variables/variables.index", "assets/vocabulary.txt"}
    assert names | {"assets.extra/tf_serving_warmup_requests"} <= set(files_under(published))
    assert load_and_call(published) == [SCALE, 2 * SCALE]


def test_versions_are_listed_in_order_and_never_overwritten(saved_model, base):
    for version in (20, 3, 100):
        model_dir.publish(saved_model, base, version)
    assert model_dir.list_versions(base) == [3, 20, 100]
    assert model_dir.latest_version(base) == 100
    assert model_dir.next_version(base, now=50) == 101
    with pytest.raises(FileExistsError, match=r"/20 already exists; versions are never overwritten"):
        model_dir.publish(saved_model, base, 20)
    assert files_under(model_dir.version_path(base, 20)) == files_under(saved_model)


def _fail_on_copy(monkeypatch, number: int) -> list:
    """Makes the number-th tf.io.gfile.copy fail, as a lost connection would; returns the copies made."""
    real_copy = tf.io.gfile.copy
    copied = []

    def copy(source, target, overwrite=False):
        if len(copied) + 1 == number:
            raise tf.errors.UnavailableError(None, None, f"connection lost copying {source}")
        real_copy(source, target, overwrite)
        copied.append(target)

    monkeypatch.setattr(tf.io.gfile, "copy", copy)
    return copied


def test_a_push_that_fails_midway_leaves_no_version_a_server_could_load(saved_model, base, monkeypatch):
    model_dir.publish(saved_model, base, 1)
    files = len(files_under(saved_model))
    for failing in range(1, files + 1):
        with monkeypatch.context() as patch:
            copied = _fail_on_copy(patch, failing)
            with pytest.raises(tf.errors.UnavailableError):
                model_dir.publish(saved_model, base, 2)
        assert len(copied) == failing - 1
        assert model_dir.list_versions(base) == [1], f"failing copy {failing} of {files} left a version"
        assert not tf.io.gfile.exists(model_dir.version_path(base, 2))
    assert model_dir.remove_leftovers(base) == []
    model_dir.publish(saved_model, base, 2)  # the number was never taken
    assert files_under(model_dir.version_path(base, 2)) == files_under(saved_model)


def test_on_an_object_store_saved_model_pb_is_written_last(saved_model, ram_base, monkeypatch):
    copied = _fail_on_copy(monkeypatch, number=0)  # never fails: records the order
    model_dir.publish(saved_model, ram_base, 1)
    assert copied[-1] == f"{ram_base}/1/saved_model.pb"
    assert len(copied) == len(files_under(saved_model))


def test_on_a_local_path_a_version_appears_by_one_rename(saved_model, tmp_path, monkeypatch):
    base = tmp_path / "polarity"
    copied = _fail_on_copy(monkeypatch, number=0)
    model_dir.publish(saved_model, base, 1)
    assert copied and all(f"/{model_dir.STAGING_PREFIX}1-" in target for target in copied)
    assert sorted(path.name for path in base.iterdir()) == ["1"]


def test_leftovers_of_a_killed_push_are_removed_and_complete_versions_kept(saved_model, base):
    model_dir.publish(saved_model, base, 1)
    staging = f"{base}/{model_dir.STAGING_PREFIX}2-999"
    partial = model_dir.version_path(base, 2)
    for folder in (f"{staging}/variables", f"{partial}/variables"):
        tf.io.gfile.makedirs(folder)
        tf.io.gfile.copy(f"{saved_model}/variables/variables.index", f"{folder}/variables.index")
    removed = model_dir.remove_leftovers(base)
    if model_dir.renames_atomically(base):
        # A local version folder never lacks saved_model.pb by our hand: not ours to delete.
        assert removed == [staging.rsplit("/", 1)[1]]
        assert model_dir.list_versions(base) == [1, 2]
    else:
        assert removed == [staging.rsplit("/", 1)[1], "2"]
        assert model_dir.list_versions(base) == [1]
    assert load_and_call(model_dir.version_path(base, 1)) == [SCALE, 2 * SCALE]


def test_the_same_model_is_found_among_published_versions(saved_model, base, tmp_path):
    other = save_small_model(tmp_path / "other" / "export", scale=SCALE + 1)
    model_dir.publish(saved_model, base, 1)
    model_dir.publish(other, base, 2)
    assert model_dir.find_identical_version(base, saved_model) == 1
    assert model_dir.find_identical_version(base, model_dir.version_path(base, 2)) == 2
    assert model_dir.find_identical_version(f"{base}-empty", saved_model) is None


def test_a_folder_without_saved_model_pb_is_refused(tmp_path, ram_base):
    with pytest.raises(FileNotFoundError, match=r"holds no saved_model.pb; nothing was published"):
        model_dir.publish(tmp_path, ram_base, 1)
    assert model_dir.list_versions(ram_base) == []


def test_a_scheme_without_a_file_system_says_what_to_install(saved_model):
    with pytest.raises(
        model_dir.FileSystemError, match=r"nosuch://bucket/m: .* no file system for nosuch://"
    ):
        model_dir.publish(saved_model, "nosuch://bucket/m", 1)
    with pytest.raises(model_dir.FileSystemError, match="tensorflow-io"):
        model_dir.list_versions("nosuch://bucket/m")


@pytest.mark.parametrize(
    "location, atomic",
    [("/srv/models", True), ("relative/models", True), ("file:///srv/models", True), ("gs://b/m", False)],
)
def test_only_local_paths_are_published_by_rename(location, atomic):
    assert model_dir.renames_atomically(location) is atomic
    assert model_dir.renames_atomically(pathlib.Path("/srv/models"))
