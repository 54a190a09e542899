"""Advice jobs in one SQLite file that survives restarts.

A job's row is written when it is queued, when it starts, as it progresses and when it ends (with
its recommendation as JSON), each in its own transaction. Each row names the store that queued
it (its owner's lease, ``lease.py``). When a store opens, a job still marked queued or running
whose owner is gone was cut off by that process: it is marked interrupted. Jobs of owners still
running (another ``advise`` on the same database) are left alone.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

from embedding_advisor.errors import NotFoundError

from ..schema import AdviceOptions, Job, JobState, Progress, Recommendation
from .lease import Lease

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    test_dataset_id TEXT,
    options TEXT NOT NULL,
    create_time TEXT NOT NULL,
    start_time TEXT,
    end_time TEXT,
    progress TEXT,
    error TEXT,
    recommendation TEXT,
    owner TEXT,
    principal TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_time ON jobs (create_time);
CREATE TABLE IF NOT EXISTS grants (
    principal TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (principal, kind, id)
);
"""


def now() -> datetime:
    return datetime.now(timezone.utc)


class JobStore:
    """Jobs in one SQLite file. Thread-safe: one connection behind a lock, WAL journal."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
            for column in ("owner", "principal"):  # a database from before leases, principals
                if column not in columns:
                    self._db.execute(f"ALTER TABLE jobs ADD COLUMN {column} TEXT")
        self.lease = Lease(path.parent / f"{path.name}.owners")

    def close(self) -> None:
        with self._lock:
            self._db.close()
        self.lease.release()

    def _write(self, sql: str, args: tuple) -> int:
        with self._lock, self._db:
            return self._db.execute(sql, args).rowcount

    def insert(self, job: Job, principal: str | None = None) -> None:
        """A new job; ``principal``: whom it belongs to (None: nobody in particular)."""
        self._write(
            "INSERT INTO jobs (job_id, state, dataset_id, test_dataset_id, options, create_time, "
            "owner, principal) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                job.job_id,
                job.state.value,
                job.dataset_id,
                job.test_dataset_id,
                job.options.model_dump_json(),
                job.create_time.isoformat(),
                self.lease.owner,
                principal,
            ),
        )

    def grant(self, principal: str, kind: str, id_: str) -> bool:
        """Record that ``principal`` uploaded ``kind`` ``id_``; False if it had before."""
        return bool(
            self._write(
                "INSERT OR IGNORE INTO grants (principal, kind, id) VALUES (?, ?, ?)",
                (principal, kind, id_),
            )
        )

    def granted(self, principal: str, kind: str, id_: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM grants WHERE principal = ? AND kind = ? AND id = ?",
                (principal, kind, id_),
            ).fetchone()
        return row is not None

    def revoke(self, principal: str, kind: str, id_: str) -> int:
        """Take ``principal``'s upload of ``id_`` back; how many principals still hold it."""
        self._write(
            "DELETE FROM grants WHERE principal = ? AND kind = ? AND id = ?", (principal, kind, id_)
        )
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM grants WHERE kind = ? AND id = ?", (kind, id_)
            ).fetchone()
        return row[0]

    def forget(self, kind: str, id_: str) -> None:
        """Every principal's grant of ``id_`` (its file is gone)."""
        self._write("DELETE FROM grants WHERE kind = ? AND id = ?", (kind, id_))

    def active_reader(self, id_: str) -> str | None:
        """A queued or running job that reads the dataset or corpus ``id_``, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT job_id FROM jobs WHERE state IN ('queued', 'running') AND "
                "(dataset_id = ? OR test_dataset_id = ? OR instr(options, ?) > 0) LIMIT 1",
                (id_, id_, id_),
            ).fetchone()
        return row[0] if row else None

    def referenced(self) -> set[str]:
        """Every dataset and corpus id some kept job names."""
        with self._lock:
            rows = self._db.execute("SELECT dataset_id, test_dataset_id, options FROM jobs")
            ids = set()
            for dataset_id, test_id, options in rows:
                ids.update(filter(None, (dataset_id, test_id)))
                corpus = AdviceOptions.model_validate_json(options).domain_corpus_id
                if corpus:
                    ids.add(corpus)
        return ids

    def finished_before(self, cutoff: datetime) -> list[str]:
        """Jobs that ended before ``cutoff`` (oldest first)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT job_id FROM jobs WHERE state NOT IN ('queued', 'running') "
                "AND COALESCE(end_time, create_time) < ? ORDER BY create_time",
                (cutoff.isoformat(),),
            ).fetchall()
        return [r[0] for r in rows]

    def principal_of(self, job_id: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT principal FROM jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no job {job_id!r}")
        return row["principal"]

    def update(self, job_id: str, **fields) -> None:
        encoded = {}
        for key, value in fields.items():
            if isinstance(value, JobState):
                value = value.value
            elif isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Progress | Recommendation):
                value = value.model_dump_json()
            encoded[key] = value
        cols = ", ".join(f"{k} = ?" for k in encoded)
        self._write(f"UPDATE jobs SET {cols} WHERE job_id = ?", (*encoded.values(), job_id))

    def finish_if_active(self, job_id: str, state: JobState, error: str | None) -> bool:
        """Move a queued or running job to a final state; False if it had already ended."""
        return bool(
            self._write(
                "UPDATE jobs SET state = ?, error = ?, end_time = ? "
                "WHERE job_id = ? AND state IN ('queued', 'running')",
                (state.value, error, now().isoformat(), job_id),
            )
        )

    def start_if_queued(self, job_id: str) -> bool:
        """Move a queued job to running; False if it was cancelled meanwhile."""
        return bool(
            self._write(
                "UPDATE jobs SET state = 'running', start_time = ? WHERE job_id = ? AND state = 'queued'",
                (now().isoformat(), job_id),
            )
        )

    def delete_if_finished(self, job_id: str) -> bool:
        """Remove a job that has ended; False if there is none, or it is queued or running."""
        return bool(
            self._write(
                "DELETE FROM jobs WHERE job_id = ? AND state NOT IN ('queued', 'running')",
                (job_id,),
            )
        )

    def mark_interrupted(self, reason: str) -> int:
        """Mark the unfinished jobs of owners that are gone interrupted; how many."""
        with self._lock:
            rows = self._db.execute(
                "SELECT job_id, owner FROM jobs WHERE state IN ('queued', 'running')"
            ).fetchall()
        orphans = [r["job_id"] for r in rows if not self.lease.alive(r["owner"])]
        return sum(
            self._write(
                "UPDATE jobs SET state = 'interrupted', error = ?, end_time = ? "
                "WHERE job_id = ? AND state IN ('queued', 'running')",
                (reason, now().isoformat(), job_id),
            )
            for job_id in orphans
        )

    @staticmethod
    def _job(row: sqlite3.Row, with_recommendation: bool = True) -> Job:
        data = dict(row)
        return Job(
            job_id=data["job_id"],
            state=JobState(data["state"]),
            dataset_id=data["dataset_id"],
            test_dataset_id=data["test_dataset_id"],
            options=AdviceOptions.model_validate_json(data["options"]),
            create_time=datetime.fromisoformat(data["create_time"]),
            start_time=datetime.fromisoformat(data["start_time"]) if data["start_time"] else None,
            end_time=datetime.fromisoformat(data["end_time"]) if data["end_time"] else None,
            progress=Progress.model_validate_json(data["progress"]) if data["progress"] else None,
            error=data["error"],
            recommendation=(
                Recommendation.model_validate_json(data["recommendation"])
                if with_recommendation and data.get("recommendation")
                else None
            ),
        )

    def get(self, job_id: str) -> Job:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no job {job_id!r}")
        return self._job(row)

    def load(self, principal: str | None) -> tuple[int, int]:
        """Jobs queued (everyone's), and jobs queued or running of ``principal`` (everyone's when
        None): what admission control weighs."""
        with self._lock:
            queued = self._db.execute("SELECT COUNT(*) FROM jobs WHERE state = ?", ("queued",))
            queued = queued.fetchone()[0]
            where = "state IN ('queued', 'running')"
            args: tuple = ()
            if principal is not None:
                where, args = where + " AND principal = ?", (principal,)
            active = self._db.execute(f"SELECT COUNT(*) FROM jobs WHERE {where}", args).fetchone()
        return queued, active[0]

    def list(
        self, limit: int, principal: str | None = None, after: int | None = None
    ) -> tuple[list[Job], int | None]:
        """The newest jobs (``principal``'s only, when given), older than row ``after`` when
        given (the previous page's last); and this page's last row when more may follow."""
        cols = "rowid, job_id, state, dataset_id, test_dataset_id, options, create_time, start_time, end_time, progress, error"
        where, args = ["1"], []
        if principal is not None:
            where.append("principal = ?")
            args.append(principal)
        if after is not None:
            where.append("rowid < ?")
            args.append(after)
        with self._lock:
            rows = self._db.execute(
                f"SELECT {cols} FROM jobs WHERE {' AND '.join(where)} ORDER BY rowid DESC LIMIT ?",
                (*args, limit + 1),
            ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        jobs = [self._job(r, with_recommendation=False) for r in rows]
        return jobs, (rows[-1]["rowid"] if more else None)
