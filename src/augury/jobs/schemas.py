"""Request and response bodies of the jobs API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from augury.jobs.models import JobStatus
from augury.schemas import StrictModel


class JobCreate(StrictModel):
    type: str = Field(min_length=1, max_length=100, description="A registered job type.")
    params: dict = Field(default_factory=dict, description="Parameters of that job type.")


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    type: str
    status: JobStatus
    progress: float
    message: str | None
    params: dict
    result: dict | None
    error: str | None
    user_id: int | None
    abort_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    host: str | None
    pid: int | None
    cpu_seconds: float | None
    peak_memory_mb: float | None
    disk_written_mb: float | None


class JobLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    level: str
    message: str
    created_at: datetime


class JobTypeRead(BaseModel):
    name: str
    title: str
    params_schema: dict


class ConsumptionRead(BaseModel):
    date: str
    user_id: int | None
    user_email: str | None
    job_type: str
    jobs: int
    succeeded: int
    failed: int
    aborted: int
    cpu_seconds: float
    peak_memory_mb: float
    disk_written_mb: float
    wall_seconds: float
