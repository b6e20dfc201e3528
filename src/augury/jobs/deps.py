"""Loader for the job routes: the job a path names, from the principal's organization
only (another organization's id is a 404, as if it did not exist).

It resolves the principal as ``Reader``; a route that acts on the job also declares
``Writer`` or ``Admin`` before it, so that a missing role is refused (403) before the
lookup.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from augury.api.deps import ObjectId, Reader, SessionDep
from augury.jobs import service
from augury.jobs.models import Job


def _job(job_id: ObjectId, principal: Reader, session: SessionDep) -> Job:
    return service.get_or_raise(session=session, org_id=principal.org_id, job_id=job_id)


JobDep = Annotated[Job, Depends(_job)]
