"""Routes of uploaded files: upload one and see its columns and first rows, read it back.

The upload reads its multipart body as a stream (the app lets this path past the body
limit, see ``STREAMED_UPLOADS``), so the file goes to disk under the datasets' upload
limit and is never held in memory.
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, status
from starlette.concurrency import run_in_threadpool

from augury.api.deps import Authenticated, SessionDep, SettingsDep
from augury.datasets.deps import received_upload
from augury.text.deps import ProjectManager
from augury.text.schemas.documents import FileRead
from augury.text.services import files

router = APIRouter()

FileId = Path(max_length=36, description="The file's id (a UUID).")

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "/projects/{project_id}/files",
    status_code=status.HTTP_201_CREATED,
    response_model=FileRead,
    openapi_extra=UPLOAD_BODY,
)
async def upload_file(
    request: Request,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
    settings: SettingsDep,
):
    """Upload a file of documents (multipart `file`): CSV/TSV, TXT (a document a line),
    JSON, JSONL, XLSX, or a PDF or image (one document, column `text`; a PDF's pages are
    kept, a scanned one is read by OCR). Answers its columns, row count and first rows,
    the header first; then make documents, a group or a labeling session of one column
    with its `id` as `file_id`. The file is kept for a day."""
    async with received_upload(request, settings) as upload:
        assert upload.path is not None
        row = await run_in_threadpool(
            files.upload,
            session,
            principal,
            settings,
            project,
            upload.path,
            file_name=upload.file_name,
            size=upload.size,
        )
        return FileRead.model_validate(row)


@router.get("/projects/{project_id}/files/{file_id}", response_model=FileRead)
def get_file(project: ProjectManager, session: SessionDep, file_id: str = FileId):
    """An uploaded file's columns and preview, until it expires."""
    return files.get(session, project, file_id)
