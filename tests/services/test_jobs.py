"""The job queue and the worker, on SQLite and PostgreSQL: claiming, coalescing, cancelling, cleanup,
and the jobs themselves (import through the zone-restricting service, filtered export, matching)."""

from __future__ import annotations

import csv
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from techbridge.config import Settings, get_settings
from techbridge.domain.access import Scope
from techbridge.domain.accounts import Role, User
from techbridge.domain.records import Achievement, Demand
from techbridge.errors import NotFound
from techbridge.services import accounts, jobs, notifications, records, tasks, uploads
from techbridge.services.tasks import ExportRequest
from techbridge.services.worker import Worker, run_pending
from techbridge.store import jobs as job_store
from techbridge.store.db import session_scope
from techbridge.store.jobs import JobRow
from techbridge.store.records import RecordQuery, list_records, upsert_records
from techbridge.store.tables import utcnow


@pytest.fixture
def settings(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # Matching reads the global settings (its index lives under the data dir): point both at tmp_path.
    monkeypatch.setenv("TECHBRIDGE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield Settings(database_url=db_url, data_dir=tmp_path / "data")
    get_settings.cache_clear()


def _user(url: str, username: str, role: Role, zone: str | None, org: str | None = None) -> User:
    with session_scope(url) as s:
        return accounts.create_user(
            s, username=username, password="a-long-password-1", role=role, zone_code=zone, organization=org
        )


def _submit(url: str, n: int) -> list[int]:
    with session_scope(url) as s:
        return [
            jobs.submit(s, kind="export", params={"n": i}, user=None, zone_code="wuxi").id for i in range(n)
        ]


def test_concurrent_workers_never_claim_the_same_job(db_url: str) -> None:
    submitted = _submit(db_url, 30)
    claimed: list[int] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while True:
            with session_scope(db_url) as s:
                job = job_store.claim(s, worker=name)
            if job is None:
                return
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == submitted  # every job once, none twice
    with session_scope(db_url) as s:
        assert job_store.count_by_state(s) == {"running": 30}


def test_a_job_is_not_claimed_before_its_time(db_url: str) -> None:
    with session_scope(db_url) as s:
        jobs.submit(s, kind="export", params={}, user=None, zone_code="wuxi", delay_seconds=60)
        assert job_store.claim(s, worker="w") is None


def test_edits_in_quick_succession_make_one_debounced_matching_job(db_url: str) -> None:
    admin = _user(db_url, "wuxi_admin", Role.ZONE_ADMIN, "wuxi")
    with session_scope(db_url) as s:
        demand = records.create(
            s, "demand", {"title": "锂电池隔膜涂覆", "organization": "无锡甲公司"}, user=admin
        )
    first = _matching_jobs(db_url)
    assert [(j.kind, j.params) for j in first] == [("match_record", {"kind": "demand", "id": demand.id})]
    for n in range(3):
        with session_scope(db_url) as s:
            records.update(s, "demand", demand.id, {"description": f"第 {n} 次修改"}, user=admin)
    again = _matching_jobs(db_url)
    assert [j.id for j in again] == [first[0].id]  # one job for four saves
    assert again[0].run_after > first[0].run_after  # pushed back by the later edits
    assert again[0].run_after - utcnow() <= timedelta(seconds=31)  # the zone's 30 s delay by default

    # An achievement is also a target of demands: the batch run is queued once too.
    with session_scope(db_url) as s:
        records.create(s, "achievement", {"title": "一种锂电池隔膜"}, user=admin)
        records.create(s, "achievement", {"title": "一种隔膜涂层"}, user=admin)
    kinds = sorted(j.kind for j in _matching_jobs(db_url))
    assert kinds == ["batch_match", "match_record", "match_record", "match_record"]


def _matching_jobs(url: str) -> list[job_store.Job]:
    with session_scope(url) as s:
        return job_store.list_jobs(s, kinds=["match_record", "batch_match"])


def test_a_queued_job_is_cancelled_at_once_and_others_cannot_see_it(db_url: str, settings: Settings) -> None:
    owner = _user(db_url, "wuxi_admin", Role.ZONE_ADMIN, "wuxi")
    other = _user(db_url, "cd_admin", Role.ZONE_ADMIN, "chengdu")
    with session_scope(db_url) as s:
        job = tasks.submit_batch_match(s, user=owner)
    with session_scope(db_url) as s, pytest.raises(NotFound):
        jobs.cancel(s, settings, user=other, job_id=job.id)
    with session_scope(db_url) as s:
        assert jobs.cancel(s, settings, user=owner, job_id=job.id).state == "cancelled"
    assert run_pending(db_url, settings) == 0


def _upload(settings: Settings, tmp_path: Path, name: str, text: str) -> uploads.Upload:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with path.open("rb") as f:
        return uploads.save_upload(settings, filename=name, stream=f)


def _preview(url: str, settings: Settings, user: User, upload: uploads.Upload, kind: str = "demand") -> int:
    with session_scope(url) as s:
        plan = uploads.plan_upload(s, upload, kind=kind, zone_code=user.zone_code or "wuxi")
        return tasks.submit_import_preview(s, settings, user=user, plan=plan, zone_code="wuxi").id


def _job(url: str, job_id: int) -> job_store.Job:
    with session_scope(url) as s:
        return job_store.get_job(s, job_id)


def test_import_jobs_validate_then_write_through_the_zone_restricting_service(
    db_url: str, settings: Settings, tmp_path: Path
) -> None:
    admin = _user(db_url, "wuxi_admin", Role.ZONE_ADMIN, "wuxi")
    upload = _upload(
        settings,
        tmp_path,
        "需求.csv",
        "需求名称,需求单位,园区代码\n激光焊接在线监测,无锡激光公司,wuxi\n成都的需求,成都公司,chengdu\n",
    )
    preview_id = _preview(db_url, settings, admin, upload)
    assert run_pending(db_url, settings) == 1
    preview = _job(db_url, preview_id)
    assert preview.state == "succeeded"
    assert preview.result["inserted"] == 1 and preview.result["error_count"] == 1
    assert preview.result["errors"][0]["reason"] == "只能导入到本园区 wuxi"
    report = jobs.job_file(settings, preview, "错误报告.csv")
    assert "只能导入到本园区 wuxi" in report.read_text(encoding="utf-8-sig")
    with session_scope(db_url) as s:
        assert list_records(s, "demand", scope=Scope.platform(), query=RecordQuery()).total == 0  # a dry run

    with session_scope(db_url) as s:
        commit = tasks.confirm_import(s, settings, user=admin, preview_id=preview_id, skip_invalid=False)
    run_pending(db_url, settings)
    refused = _job(db_url, commit.id)
    assert refused.state == "failed" and "未写入任何记录" in refused.error
    with session_scope(db_url) as s:
        commit = tasks.confirm_import(s, settings, user=admin, preview_id=preview_id, skip_invalid=True)
    run_pending(db_url, settings)
    done = _job(db_url, commit.id)
    assert (done.state, done.result["inserted"]) == ("succeeded", 1)
    with session_scope(db_url) as s:
        titles = [
            i.record.title
            for i in list_records(s, "demand", scope=Scope.platform(), query=RecordQuery()).items
        ]
        assert titles == ["激光焊接在线监测"]
        assert notifications.unread_count(s, user=admin) == 1  # 导入完成
        # The imported records are matched by a (debounced) batch job.
        assert [j.kind for j in job_store.list_jobs(s, states=["queued"])] == ["batch_match"]
    with pytest.raises(uploads.UploadExpired):  # the upload is removed once imported
        uploads.find_upload(settings, upload.token)


def test_the_column_mapping_is_used_and_remembered_for_the_zone(
    db_url: str, settings: Settings, tmp_path: Path
) -> None:
    admin = _user(db_url, "wuxi_admin", Role.ZONE_ADMIN, "wuxi")
    text = "课题名称,委托企业,备注\n焊缝缺陷识别,无锡激光公司,无\n"
    upload = _upload(settings, tmp_path, "委托.csv", text)
    with session_scope(db_url) as s:
        plan = uploads.plan_upload(s, upload, kind="demand", zone_code="wuxi")
        assert plan.plan.missing == ["title", "organization"]
        chosen = {"课题名称": "title", "委托企业": "organization", "备注": ""}
        plan = uploads.plan_upload(s, upload, kind="demand", zone_code="wuxi", explicit=chosen)
        assert plan.plan.missing == [] and plan.plan.unmapped == ["备注"]
        preview = tasks.submit_import_preview(
            s, settings, user=admin, plan=plan, zone_code="wuxi", chosen=chosen
        )
    run_pending(db_url, settings)
    with session_scope(db_url) as s:
        tasks.confirm_import(s, settings, user=admin, preview_id=preview.id, skip_invalid=False)
    run_pending(db_url, settings)
    # Next time the zone uploads a file with these headers, the mapping is already there.
    again = _upload(settings, tmp_path, "委托2.csv", text)
    with session_scope(db_url) as s:
        plan = uploads.plan_upload(s, again, kind="demand", zone_code="wuxi")
        assert plan.plan.mapping == {"课题名称": "title", "委托企业": "organization"}
        assert plan.plan.missing == []
        # Another zone does not inherit it.
        assert uploads.plan_upload(s, again, kind="demand", zone_code="chengdu").plan.missing


def test_cancelling_a_running_import_rolls_it_back(db_url: str, settings: Settings, tmp_path: Path) -> None:
    admin = _user(db_url, "wuxi_admin", Role.ZONE_ADMIN, "wuxi")
    rows = "".join(f"需求{i:05d} 的技术问题,无锡公司{i % 50}\n" for i in range(20_000))
    upload = _upload(settings, tmp_path, "big.csv", "需求名称,需求单位\n" + rows)
    preview_id = _preview(db_url, settings, admin, upload)
    run_pending(db_url, settings)
    with session_scope(db_url) as s:
        commit = tasks.confirm_import(s, settings, user=admin, preview_id=preview_id, skip_invalid=False)
    worker = Worker(db_url, settings)
    thread = threading.Thread(target=worker.run)
    thread.start()
    deadline = time.monotonic() + 60
    while jobs.status(settings, _job(db_url, commit.id)).progress.done == 0:
        assert time.monotonic() < deadline, "the import never reported progress"
        time.sleep(0.05)
    with session_scope(db_url) as s:
        jobs.cancel(s, settings, user=admin, job_id=commit.id)
    while not _job(db_url, commit.id).is_finished:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    worker.stop()
    thread.join()
    cancelled = _job(db_url, commit.id)
    assert cancelled.state == "cancelled" and "未写入" in cancelled.error
    with session_scope(db_url) as s:
        assert list_records(s, "demand", scope=Scope.platform(), query=RecordQuery()).total == 0


def test_a_filtered_export_job_writes_what_the_list_shows(db_url: str, settings: Settings) -> None:
    admin = _user(db_url, "wuxi_admin", Role.ZONE_ADMIN, "wuxi")
    with session_scope(db_url) as s:
        upsert_records(
            s,
            "achievement",
            [
                Achievement(title="一种锂电池隔膜", zone_code="wuxi", kind="invention"),
                Achievement(title="隔膜检测软件", zone_code="wuxi", kind="software"),
                Achievement(title="成都私有专利", zone_code="chengdu"),
            ],
        )
        request = ExportRequest(kind="achievement", fmt="csv", filters=(("kind", "invention"),))
        assert tasks.export_size(s, user=admin, request=request) == 1
        job = tasks.submit_export(s, user=admin, request=request, rows=1)
    run_pending(db_url, settings)
    done = _job(db_url, job.id)
    assert done.state == "succeeded" and done.result["count"] == 1
    path = jobs.job_file(settings, done, done.result["files"]["download"])
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert [r[rows[0].index("成果名称")] for r in rows[1:]] == ["一种锂电池隔膜"]
    with pytest.raises(NotFound):
        jobs.job_file(settings, done, "../../techbridge.sqlite3")


def test_an_export_job_names_its_file_in_the_configured_display_zone(db_url: str, settings: Settings) -> None:
    """The file name carries the staff's wall-clock time: TECHBRIDGE_DISPLAY_TIMEZONE, not a fixed zone."""
    admin = _user(db_url, "wuxi_admin", Role.ZONE_ADMIN, "wuxi")
    request = ExportRequest(kind="achievement", fmt="csv")
    names = {}
    for zone in ("Asia/Shanghai", "Asia/Urumqi"):  # UTC+8 and UTC+6
        local = settings.model_copy(update={"display_timezone": zone})
        with session_scope(db_url) as s:
            job = tasks.submit_export(s, user=admin, request=request, rows=0)
            s.execute(
                update(JobRow)
                .where(JobRow.id == job.id)
                .values(created_at=datetime(2026, 11, 30, 17, 30, tzinfo=UTC))
            )
        run_pending(db_url, local)
        names[zone] = _job(db_url, job.id).result["files"]["download"]
    assert names == {"Asia/Shanghai": "成果-20261201-0130.csv", "Asia/Urumqi": "成果-20261130-2330.csv"}


def test_a_matching_job_tells_the_demand_owner_of_new_strong_matches(db_url: str, settings: Settings) -> None:
    owner = _user(db_url, "wuxi_corp", Role.ENTERPRISE, "wuxi", "无锡甲公司")
    other = _user(db_url, "wuxi_other", Role.ENTERPRISE, "wuxi", "无锡乙公司")
    admin = _user(db_url, "wuxi_admin", Role.ZONE_ADMIN, "wuxi")
    with session_scope(db_url) as s:
        upsert_records(
            s,
            "achievement",
            [
                Achievement(title="一种锂电池隔膜陶瓷涂覆方法", zone_code="wuxi", ipc_codes=["H01M 50/449"]),
                Achievement(title="区块链数据存储方法", zone_code="wuxi", ipc_codes=["G06F"]),
            ],
        )
        zone_settings_threshold(s, admin, 0.0)
        demand = records.create(
            s,
            "demand",
            {"title": "锂电池隔膜陶瓷涂覆工艺", "organization": "无锡甲公司", "keywords": "隔膜;涂覆"},
            user=owner,
        )
        # Due now rather than after the zone's delay.
        s.execute(update(JobRow).values(run_after=utcnow()))
    run_pending(db_url, settings)
    with session_scope(db_url) as s:
        done = job_store.list_jobs(s, kinds=["match_record"])[0]
        assert done.state == "succeeded" and done.result["notified"] == 1
        (note,) = notifications.inbox(s, user=owner)
        assert note.kind == "match" and note.link == f"/demands/{demand.id}/matches"
        assert "锂电池隔膜陶瓷涂覆工艺" in note.title
        assert notifications.unread_count(s, user=other) == 0
        # Matching again finds nothing new: no second notification.
        records.update(s, "demand", demand.id, {"description": "再次保存"}, user=owner)
        s.execute(update(JobRow).where(JobRow.state == "queued").values(run_after=utcnow()))
    run_pending(db_url, settings)
    with session_scope(db_url) as s:
        assert notifications.count(s, user=owner) == 1


def zone_settings_threshold(session, admin: User, threshold: float) -> None:
    from techbridge.services import zone_settings

    zone_settings.update(session, user=admin, zone_code="wuxi", values={"match_threshold": threshold})


def test_cleanup_removes_old_jobs_abandoned_uploads_and_requeues_jobs_of_a_dead_worker(
    db_url: str, settings: Settings, tmp_path: Path
) -> None:
    old, recent = _submit(db_url, 2)
    upload = _upload(settings, tmp_path, "old.csv", "需求名称,需求单位\na,b\n")
    fresh = _upload(settings, tmp_path, "new.csv", "需求名称,需求单位\na,b\n")
    long_ago = time.time() - 2 * 86400
    os.utime(upload.path.parent, (long_ago, long_ago))
    with session_scope(db_url) as s:
        for job_id in (old, recent):
            job_store.claim(s, worker="w")
            job_store.finish(s, job_id, state="succeeded", result={"files": {}})
        s.execute(update(JobRow).where(JobRow.id == old).values(finished_at=utcnow() - timedelta(days=40)))
        dead = jobs.submit(s, kind="export", params={}, user=None, zone_code="wuxi").id
        job_store.claim(s, worker="dead")
        s.execute(update(JobRow).where(JobRow.id == dead).values(heartbeat_at=utcnow() - timedelta(hours=1)))
    jobs.JobFiles(settings, old).write_progress(1, 1, "")
    report = jobs.cleanup(db_url, settings)
    assert (report.jobs_removed, report.uploads_removed, report.jobs_requeued) == (1, 1, 1)
    assert not jobs.JobFiles(settings, old).dir.exists()
    assert uploads.find_upload(settings, fresh.token)
    with session_scope(db_url) as s:
        assert [j.id for j in job_store.list_jobs(s)] == [dead, recent]
        assert job_store.get_job(s, dead).state == "queued"


def test_a_stopping_worker_puts_its_job_back_in_the_queue(
    db_url: str, settings: Settings, tmp_path: Path
) -> None:
    admin = _user(db_url, "wuxi_admin", Role.ZONE_ADMIN, "wuxi")
    rows = "".join(f"需求{i:05d} 的技术问题,无锡公司\n" for i in range(20_000))
    preview_id = _preview(
        db_url, settings, admin, _upload(settings, tmp_path, "big.csv", "需求名称,需求单位\n" + rows)
    )
    worker = Worker(db_url, settings)
    thread = threading.Thread(target=worker.run)
    thread.start()
    deadline = time.monotonic() + 60
    while jobs.status(settings, _job(db_url, preview_id)).progress.done == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    worker.stop()
    thread.join()
    back = _job(db_url, preview_id)
    assert back.state == "queued" and back.attempts == 1
    assert run_pending(db_url, settings) == 1  # the next worker start finishes it
    assert _job(db_url, preview_id).state == "succeeded"


def test_demands_archived_by_button_or_status_show_under_the_archived_filter_and_restore(db_url: str) -> None:
    admin = _user(db_url, "wuxi_admin", Role.ZONE_ADMIN, "wuxi")
    with session_scope(db_url) as s:
        upsert_records(
            s,
            "demand",
            [
                Demand(
                    title="已归档状态的需求", organization="无锡甲公司", zone_code="wuxi", status="archived"
                ),
                Demand(title="按钮归档的需求", organization="无锡甲公司", zone_code="wuxi"),
                Demand(title="在用的需求", organization="无锡甲公司", zone_code="wuxi"),
            ],
        )
        ids = {
            i.record.title: i.id
            for i in list_records(s, "demand", scope=Scope("wuxi"), query=RecordQuery()).items
        }
        records.archive(s, "demand", ids["按钮归档的需求"], user=admin)
    archived = RecordQuery(filters={"status": "archived"})
    with session_scope(db_url) as s:
        page = records.list_visible(s, "demand", user=admin, query=archived)
        assert sorted(i.record.title for i in page.items) == ["已归档状态的需求", "按钮归档的需求"]
        restored = records.restore(s, "demand", ids["已归档状态的需求"], user=admin)
        records.restore(s, "demand", ids["按钮归档的需求"], user=admin)
    assert restored.record.status == "open" and restored.archived_at is None
    with session_scope(db_url) as s:
        assert records.list_visible(s, "demand", user=admin, query=archived).total == 0
        assert records.list_visible(s, "demand", user=admin, query=RecordQuery()).total == 3
