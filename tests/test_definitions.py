"""The code location loads and names the expected jobs, schedule, sensor, assets and checks."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetCheckKey, AssetKey, DefaultScheduleStatus, DefaultSensorStatus, Definitions

from forge_status_pipeline.config import InvalidSettingError
from forge_status_pipeline.definitions import build_definitions


@pytest.fixture
def defs(monkeypatch: pytest.MonkeyPatch, config_copy: Path) -> Definitions:
    monkeypatch.setenv("FORGE_STATUS_CONFIG", str(config_copy))
    return build_definitions()


def test_jobs_and_schedule_exist(defs: Definitions) -> None:
    schedule = defs.resolve_schedule_def("forge_status_schedule")

    assert defs.resolve_job_def("forge_status_job").name == "forge_status_job"
    assert defs.resolve_job_def("forge_status_notify_job").name == "forge_status_notify_job"
    assert schedule.cron_schedule == "0 */4 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == DefaultScheduleStatus.RUNNING


def test_notification_sensor_runs_by_default(defs: Definitions) -> None:
    sensor = defs.resolve_sensor_def("status_change_notification_sensor")

    assert sensor.default_status == DefaultSensorStatus.RUNNING
    assert sensor.job_name == "forge_status_notify_job"
    assert sensor.asset_key == AssetKey("status_changes")


def test_report_checks_exist(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()
    report_checks = {
        key.name for key in graph.asset_check_keys if key.asset_key == AssetKey("status_report")
    }

    assert report_checks == {
        "newest_revision_passing",
        "no_new_regressions",
        "all_repos_read",
        "no_stale_repos",
    }
    for name in report_checks:
        check = graph.get_check_spec(AssetCheckKey(AssetKey("status_report"), name))
        assert check.blocking is False


def test_history_and_changes_lineage(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()

    assert graph.get(AssetKey("status_history")).parent_keys == {AssetKey("status_report")}
    assert graph.get(AssetKey("status_changes")).parent_keys == {AssetKey("status_history")}
    assert graph.get(AssetKey("status_changes")).group_name == "changes"


def test_job_includes_history_and_checks(defs: Definitions) -> None:
    nodes = {node.name for node in defs.resolve_job_def("forge_status_job").graph.nodes}

    assert "status_history_and_changes" in nodes
    assert "status_report_checks" in nodes
    assert "send_status_notifications" not in nodes
    job = defs.resolve_job_def("forge_status_job")
    check_names = {key.name for key in job.asset_layer.asset_graph.asset_check_keys}
    assert "no_new_regressions" in check_names


def test_every_asset_has_description(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()

    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, f"{key.to_user_string()} has no description"
        assert node.group_name != "default", f"{key.to_user_string()} has no group"
        assert node.kinds, f"{key.to_user_string()} has no kinds"


def test_executor_in_process_by_default(defs: Definitions) -> None:
    job = defs.resolve_job_def("forge_status_job")

    assert job.executor_def.name == "in_process"


def test_executor_chosen_by_env(monkeypatch: pytest.MonkeyPatch, config_copy: Path) -> None:
    monkeypatch.setenv("FORGE_STATUS_CONFIG", str(config_copy))
    monkeypatch.setenv("FORGE_STATUS_EXECUTOR", "multiprocess")

    job = build_definitions().resolve_job_def("forge_status_job")

    assert job.executor_def.name == "multiprocess"


def test_unknown_executor_rejected(monkeypatch: pytest.MonkeyPatch, config_copy: Path) -> None:
    monkeypatch.setenv("FORGE_STATUS_CONFIG", str(config_copy))
    monkeypatch.setenv("FORGE_STATUS_EXECUTOR", "celery")

    with pytest.raises(InvalidSettingError) as error:
        build_definitions()

    assert str(error.value) == (
        "FORGE_STATUS_EXECUTOR='celery' is invalid; use one of in_process, multiprocess"
    )


def load_benchmark(name: str) -> Any:
    path = Path(__file__).parent.parent / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_floor_mirrors_pipeline(
    monkeypatch: pytest.MonkeyPatch, config_copy: Path
) -> None:
    # benchmarks/dagster_floor.py must keep the pipeline's steps, asset keys and checks.
    monkeypatch.setenv("FORGE_STATUS_CONFIG", str(config_copy))
    floor = load_benchmark("dagster_floor")
    pipeline = build_definitions()

    floor_graph = floor.defs.resolve_asset_graph()
    pipeline_graph = pipeline.resolve_asset_graph()
    assert floor_graph.get_all_asset_keys() == pipeline_graph.get_all_asset_keys()
    assert floor_graph.asset_check_keys == pipeline_graph.asset_check_keys
    floor_steps = {assets.node_def.name for assets in floor.defs.assets}
    assert floor_steps == {assets.node_def.name for assets in pipeline.assets}


def test_benchmark_one_key_replaces_repo_assets(
    monkeypatch: pytest.MonkeyPatch, config_copy: Path
) -> None:
    # benchmarks/dagster_one_key.py must keep every asset and check but the per-repo ones.
    monkeypatch.setenv("FORGE_STATUS_CONFIG", str(config_copy))
    one_key = load_benchmark("dagster_one_key")
    pipeline_graph = build_definitions().resolve_asset_graph()

    one_key_graph = one_key.defs.resolve_asset_graph()
    all_keys = pipeline_graph.get_all_asset_keys()
    repo_keys = {key for key in all_keys if key.path[0] == "downstream_runs"}
    assert len(repo_keys) == 4
    expected = (all_keys - repo_keys) | {AssetKey("downstream_runs")}
    assert one_key_graph.get_all_asset_keys() == expected
    assert one_key_graph.asset_check_keys == pipeline_graph.asset_check_keys
