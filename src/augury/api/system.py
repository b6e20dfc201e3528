"""Health of the server itself."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from augury import __version__, clock

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str
    version: str
    database: str
    jobs_runner: str
    loops: dict[str, str] = Field(
        default_factory=dict,
        description="Each background loop of this process (jobs, stream, dispatch): "
        "`ok`, `stopped`, or `failing (n in a row): <last error>`.",
    )
    time: str


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(request: Request):
    """Liveness and readiness: the database answers and the job runner is alive."""
    db_ok = True
    try:
        with request.app.state.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        db_ok = False
    runner = request.app.state.runner
    runner_state = "disabled" if runner is None else ("ok" if runner.alive else "stopped")
    body = Health(
        status="ok" if db_ok else "degraded",
        version=__version__,
        database="ok" if db_ok else "unreachable",
        jobs_runner=runner_state,
        loops={loop.name: loop.health() for loop in request.app.state.loops},
        time=clock.now().isoformat().replace("+00:00", "Z"),
    )
    return JSONResponse(body.model_dump(), status_code=200 if db_ok else 503)
