"""Routes of human review (HITL): the project's review settings and webhook secret
(managers), and the review queue: list, read, accept, correct (reviewers: the
project's annotators, who see the items assigned to them, and its managers)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from augury.api.deps import Authenticated, ObjectId, SessionDep, SettingsDep
from augury.api.pagination import Page, PageDep, make_page
from augury.text.deps import ProjectAnnotator, ProjectManager
from augury.text.schemas.review import (
    ReviewConfigPut,
    ReviewConfigRead,
    ReviewCorrect,
    ReviewItemRead,
)
from augury.text.services import review

router = APIRouter()

CONFIG = "/projects/{project_id}/review/config"
ITEMS = "/projects/{project_id}/review/items"
ITEM = ITEMS + "/{item_id}"


@router.get(CONFIG, response_model=ReviewConfigRead)
def get_review_config(project: ProjectManager, session: SessionDep):
    """The project's review settings (`configured: false` until first saved); the
    webhook secret shows only as its first characters."""
    return review.read_config(session, project, review.get_config(session, project), None)


@router.put(CONFIG, response_model=ReviewConfigRead)
def put_review_config(
    body: ReviewConfigPut,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
    settings: SettingsDep,
):
    """Save the review settings: predictions under `threshold` (0-1) of `classes`
    (names; null: all) go to `assignee_ids` in turn, and each batch of new items calls
    `webhook_url`, signed. Fields left out keep their value. The answer that first sets a
    webhook holds its `webhook_secret`, the only time it is shown."""
    config, secret = review.put_config(
        session, principal, project, body, allowed=settings.alerts.allowed_private_networks
    )
    return review.read_config(session, project, config, secret)


@router.post(CONFIG + "/rotate-secret", response_model=ReviewConfigRead)
def rotate_review_secret(project: ProjectManager, principal: Authenticated, session: SessionDep):
    """A new webhook secret, shown this once; deliveries are signed with it from now on."""
    config, secret = review.rotate_secret(session, principal, project)
    return review.read_config(session, project, config, secret)


@router.get(ITEMS, response_model=Page[ReviewItemRead])
def list_review_items(
    project: ProjectAnnotator,
    principal: Authenticated,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[
        Literal["PENDING", "ACCEPTED", "CORRECTED"] | None, Query(alias="status")
    ] = None,
    assignee: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="A user id.")] = None,
):
    """The review queue, oldest first: a manager sees every item, a reviewer theirs."""
    rows, total = review.list_items(
        session, principal, project, page, status=status_, assignee=assignee
    )
    return make_page(review.read_items(session, project, rows), total, page)


@router.get(ITEM, response_model=ReviewItemRead)
def get_review_item(
    item_id: ObjectId, project: ProjectAnnotator, principal: Authenticated, session: SessionDep
):
    item = review.get_item(session, principal, project, item_id)
    return review.read_items(session, project, [item])[0]


@router.post(ITEM + "/accept", response_model=ReviewItemRead)
def accept_review_item(
    item_id: ObjectId, project: ProjectAnnotator, principal: Authenticated, session: SessionDep
):
    """The prediction was right: its tags become training data (the project's REVIEW
    session). 409 when the item was already reviewed."""
    item = review.get_item(session, principal, project, item_id)
    settled = review.accept(session, principal, project, item)
    return review.read_items(session, project, [settled])[0]


@router.post(ITEM + "/correct", response_model=ReviewItemRead)
def correct_review_item(
    item_id: ObjectId,
    body: ReviewCorrect,
    project: ProjectAnnotator,
    principal: Authenticated,
    session: SessionDep,
):
    """The reviewer's tags (as session tags: class/label names or ids of the project)
    replace the prediction's and become training data. 409 when already reviewed."""
    item = review.get_item(session, principal, project, item_id)
    settled = review.correct(session, principal, project, item, body)
    return review.read_items(session, project, [settled])[0]
