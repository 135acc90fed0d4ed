"""The voice menu's editor over HTTP: versions, validation, simulation, publication, measures.

Telecom staff (and admins) only, except the measures, which supervisors read too (the weekly
quality page); the contract is shared with the editor page (``cti/web/static/ivr*``). A tree
travels as the JSON object of ``ivr_scripts.tree.Tree`` or as YAML text; problems carry the
dotted path in the tree, the node and a French message. A tree that does not read is 422 with
its problems; a version that does not validate is not published (422, nothing changes).
A recording is uploaded as the request's body (``POST /api/ivr/recordings?filename=...``),
converted for Asterisk and named; the editor puts that name in the prompt's ``file``. A file
that is not a sound, empty or too long is refused (422, French message, nothing kept).
Trees are read and checked off the event loop, within the limits of the settings
(``IvrAdmin.read_checked``); one that takes too long is 422 as well.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, model_validator

from cti.ivr_admin import IvrAdmin, TreeCheckTooLong
from cti.ivr_store import IvrVersionNotFound, StoredTree, TreeNotPublishable
from cti.prompts.errors import RecordingRejected
from cti.web.auth import require
from ivr_scripts.errors import IvrError, Problem
from ivr_scripts.measures import NodeMeasure
from ivr_scripts.node_names import KIND_NAMES, node_names
from ivr_scripts.simulate import parse_at
from ivr_scripts.tree import Tree, tree_json_schema
from screenpop.accounts import Role, UserView

router = APIRouter(tags=["ivr"])
PAGE = Path(__file__).parent / "static" / "ivr.html"

Telecom = Annotated[UserView, Depends(require(Role.TELECOM))]
MeasuresReader = Annotated[UserView, Depends(require(Role.TELECOM, Role.SUPERVISOR))]
MAX_MEASURE_DAYS = 731  # the quality page's 104 weeks fit
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # a WAV of several minutes at CD quality


def _admin(request: Request) -> IvrAdmin:
    admin: IvrAdmin = request.app.state.ivr
    return admin


Admin = Annotated[IvrAdmin, Depends(_admin)]


class ProblemOut(BaseModel):
    path: str
    node: str | None
    message: str
    severity: Literal["error", "warning"]


class VersionOut(BaseModel):
    version: int
    status: Literal["draft", "published", "archived"]
    created_at: datetime
    author: str
    comment: str
    published_at: datetime | None
    published_by: str | None
    valid: bool


class VersionDetail(VersionOut):
    tree: dict[str, Any]
    yaml: str


class VersionsOut(BaseModel):
    published: int | None
    versions: list[VersionOut]


class TreeIn(BaseModel):
    """A tree as a JSON object (``tree``) or as YAML text (``yaml``)."""

    tree: dict[str, Any] | None = None
    yaml: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> TreeIn:
        if self.tree is None and self.yaml is None:
            raise ValueError("indiquez l'arbre (tree) ou son texte YAML (yaml)")
        return self


class ValidateOut(BaseModel):
    valid: bool
    problems: list[ProblemOut]


class SimulateIn(TreeIn):
    keys: str = Field(default="", max_length=200, description="touches séparées par des virgules")
    at: str | None = Field(default=None, description="date et heure, ex. 2026-12-25T10:00")


class StepOut(BaseModel):
    node: str
    kind: str
    said: list[str]


class SimulateOut(BaseModel):
    steps: list[StepOut]
    end: str
    variables: dict[str, str]


class DraftIn(TreeIn):
    comment: str = Field(default="", max_length=200)


class PublishIn(BaseModel):
    comment: str = Field(default="", max_length=200)


class DiffOut(BaseModel):
    model_config = {"populate_by_name": True}

    from_: int = Field(alias="from")
    to: int
    identical: bool
    changes: list[str] = Field(description="ce qui change, nœud par nœud, en français")
    lines: list[str] = Field(description="différences du texte YAML (format unifié)")


class CompareIn(TreeIn):
    against: int = Field(description="version de référence, en général la version publiée")


class CompareOut(BaseModel):
    against: int
    changes: list[str]


class RecordingOut(BaseModel):
    file: str = Field(description="à mettre dans le champ file du message (ex. cti/9f2c...)")
    seconds: float
    url: str = Field(description="pour l'écouter")


class NodeMeasureOut(BaseModel):
    node: str
    name: str = Field(description="le nœud tel que l'éditeur le nomme (jamais son identifiant)")
    label: str = Field(description="libellé du nœud dans la version publiée")
    kind: str | None = Field(description="type du nœud ; null s'il n'est plus dans le menu publié")
    kind_label: str = Field(description="type du nœud, en français")
    order: int | None = Field(description="rang du nœud dans la version publiée (0 : le premier)")
    passed: int
    hung_up: int
    timed_out: int
    hang_up_share: float
    high_hang_up: bool = Field(description="beaucoup d'appelants raccrochent à ce nœud")


class DayMeasureOut(BaseModel):
    day: str
    calls: int
    self_served: int
    share: float


class MeasuresOut(BaseModel):
    nodes: list[NodeMeasureOut]
    days: list[DayMeasureOut]


def _node_measure(measure: NodeMeasure, tree: Tree, names: dict[str, str]) -> NodeMeasureOut:
    """A node's figures with what the published tree says of it (runs may name a node that
    only an earlier version had)."""
    node = tree.nodes.get(measure.node)
    figures = {
        "node": measure.node,
        "passed": measure.passed,
        "hung_up": measure.hung_up,
        "timed_out": measure.timed_out,
        "hang_up_share": measure.hang_up_share,
        "high_hang_up": measure.high_hang_up,
    }
    if node is None:
        return NodeMeasureOut(
            **figures,
            name="nœud retiré du menu publié",
            label="",
            kind=None,
            kind_label="absent du menu publié",
            order=None,
        )
    return NodeMeasureOut(
        **figures,
        name=names[measure.node],
        label=node.label,
        kind=node.kind,
        kind_label=KIND_NAMES.get(node.kind, node.kind),
        order=list(tree.nodes).index(measure.node),
    )


def _problem(p: Problem) -> ProblemOut:
    parts = p.path.split(".")
    node = parts[1] if len(parts) >= 2 and parts[0] == "nodes" else None
    return ProblemOut(path=p.path, node=node, message=p.message, severity=p.severity)


async def _version(admin: IvrAdmin, stored: StoredTree) -> VersionOut:
    return (await _versions(admin, [stored]))[0]


async def _versions(admin: IvrAdmin, stored: list[StoredTree]) -> list[VersionOut]:
    """The versions as the pages list them; their validation off the event loop (drafts
    saved before the size limits may be large)."""
    valid = await asyncio.to_thread(lambda: [admin.is_valid(s.tree) for s in stored])
    return [_version_out(s, ok) for s, ok in zip(stored, valid, strict=True)]


def _version_out(stored: StoredTree, valid: bool) -> VersionOut:
    return VersionOut(
        version=stored.version,
        status=stored.status,
        created_at=stored.created_at,
        author=stored.author,
        comment=stored.comment,
        published_at=stored.published_at,
        published_by=stored.published_by,
        valid=valid,
    )


async def _read_checked(
    admin: IvrAdmin, form: TreeIn, *, check: bool
) -> tuple[Tree | None, list[Problem], list[Problem]]:
    try:
        return await admin.read_checked(form.yaml if form.tree is None else form.tree, check=check)
    except TreeCheckTooLong as exc:
        raise HTTPException(422, {"message": f"Menu refusé : {exc}.", "problems": []}) from exc


async def _read(admin: IvrAdmin, form: TreeIn, *, check: bool) -> tuple[Tree, list[Problem]]:
    """The tree of the request and the validator's problems (``check``), or 422 with the
    problems of its shape."""
    tree, problems, checked = await _read_checked(admin, form, check=check)
    if tree is None or any(p.severity == "error" for p in problems):
        raise HTTPException(
            422,
            {
                "message": "Ce texte n'est pas un menu vocal lisible.",
                "problems": [_problem(p).model_dump() for p in problems],
            },
        )
    return tree, checked


@router.get("/ivr", include_in_schema=False)
async def ivr_page() -> FileResponse:
    if not PAGE.is_file():
        raise HTTPException(404, "La page de l'éditeur de menu vocal n'est pas installée.")
    return FileResponse(PAGE)


@router.get("/api/ivr/versions")
async def versions(user: Telecom, admin: Admin) -> VersionsOut:
    items = await _versions(admin, await admin.versions())
    return VersionsOut(published=admin.published_version, versions=items)


@router.get("/api/ivr/versions/{number}")
async def version(number: int, user: Telecom, admin: Admin) -> VersionDetail:
    try:
        stored = await admin.version(number)
    except IvrVersionNotFound:
        raise HTTPException(404, f"La version {number} du menu vocal n'existe pas.") from None
    return VersionDetail(
        **(await _version(admin, stored)).model_dump(),
        tree=stored.tree.model_dump(mode="json", exclude_none=True),
        yaml=stored.yaml,
    )


@router.post("/api/ivr/validate")
async def validate(form: TreeIn, user: Telecom, admin: Admin) -> ValidateOut:
    tree, shape, checked = await _read_checked(admin, form, check=True)
    problems = shape + checked
    valid = tree is not None and not any(p.severity == "error" for p in problems)
    return ValidateOut(valid=valid, problems=[_problem(p) for p in problems])


@router.post("/api/ivr/simulate")
async def simulate(form: SimulateIn, user: Telecom, admin: Admin) -> SimulateOut:
    tree, checked = await _read(admin, form, check=True)
    errors = [p for p in checked if p.severity == "error"]
    if errors:
        raise HTTPException(
            422,
            {
                "message": "Le menu comporte des erreurs : corrigez-les avant de simuler.",
                "problems": [_problem(p).model_dump() for p in errors],
            },
        )
    try:
        at = parse_at(form.at) if form.at else None
    except ValueError:
        raise HTTPException(
            422, f"Date et heure illisibles « {form.at} » (attendu AAAA-MM-JJTHH:MM)."
        ) from None
    keys = [k.strip() for k in form.keys.split(",")] if form.keys.strip() else []
    try:
        walk = await admin.simulate(tree, keys, at)
    except IvrError as exc:
        raise HTTPException(422, str(exc)) from exc
    return SimulateOut(
        steps=[StepOut(node=s.node, kind=s.kind, said=list(s.said)) for s in walk.steps],
        end=walk.end,
        variables=walk.variables,
    )


@router.post("/api/ivr/drafts", status_code=201)
async def save_draft(form: DraftIn, user: Telecom, admin: Admin) -> VersionOut:
    tree, _ = await _read(admin, form, check=False)
    stored = await admin.save_draft(tree, user.username, form.comment)
    return await _version(admin, stored)


@router.post("/api/ivr/versions/{number}/publish")
async def publish(number: int, form: PublishIn, user: Telecom, admin: Admin) -> VersionOut:
    try:
        stored = await admin.publish(number, user.username, form.comment)
    except IvrVersionNotFound:
        raise HTTPException(404, f"La version {number} du menu vocal n'existe pas.") from None
    except TreeNotPublishable as exc:
        raise HTTPException(
            422,
            {
                "message": f"La version {number} ne peut pas être publiée : "
                f"{len(exc.problems)} erreur(s) à corriger.",
                "problems": [_problem(p).model_dump() for p in exc.problems],
            },
        ) from exc
    return await _version(admin, stored)


@router.get("/api/ivr/diff")
async def diff(
    user: Telecom,
    admin: Admin,
    old: Annotated[int, Query(alias="from")],
    new: Annotated[int, Query(alias="to")],
) -> DiffOut:
    try:
        found = await admin.diff(old, new)
    except IvrVersionNotFound as exc:
        raise HTTPException(404, f"La version {exc.version} du menu vocal n'existe pas.") from None
    return DiffOut(
        from_=old, to=new, identical=not found.changes, changes=found.changes, lines=found.lines
    )


@router.post("/api/ivr/compare")
async def compare_tree(form: CompareIn, user: Telecom, admin: Admin) -> CompareOut:
    """What the tree of the request changes from version ``against`` (before a publication
    or a rollback is confirmed)."""
    tree, _ = await _read(admin, form, check=False)
    try:
        changes = await admin.changes_from(form.against, tree)
    except IvrVersionNotFound as exc:
        raise HTTPException(404, f"La version {exc.version} du menu vocal n'existe pas.") from None
    return CompareOut(against=form.against, changes=changes)


@router.get("/api/ivr/schema")
async def schema(user: Telecom) -> dict[str, Any]:
    return tree_json_schema()


@router.get("/api/ivr/measures")
async def measures(
    user: MeasuresReader,
    admin: Admin,
    days: Annotated[int, Query(ge=1, le=MAX_MEASURE_DAYS)] = 7,
) -> MeasuresOut:
    """Per node and per local day over the ``days`` days ending today (busiest node first)."""
    result = await admin.measures(days)
    tree = admin.tree()
    names = node_names(tree)
    return MeasuresOut(
        nodes=[_node_measure(n, tree, names) for n in result.nodes],
        days=[
            DayMeasureOut(
                day=d.day.isoformat(), calls=d.calls, self_served=d.self_served, share=d.share
            )
            for d in result.days
        ],
    )


@router.post("/api/ivr/recordings", status_code=201)
async def upload_recording(
    request: Request,
    user: Telecom,
    admin: Admin,
    filename: Annotated[str, Query(max_length=200)] = "enregistrement",
) -> RecordingOut:
    """The request's body is the sound file (WAV preferred; FLAC, OGG...)."""
    if admin.sounds is None:
        raise HTTPException(503, "Les enregistrements ne sont pas disponibles sur ce serveur.")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_UPLOAD_BYTES:
            raise HTTPException(
                413,
                {
                    "message": f"« {filename} » refusé : le fichier dépasse "
                    f"{MAX_UPLOAD_BYTES // (1024 * 1024)} Mo."
                },
            )
    if not data:
        raise HTTPException(422, {"message": f"« {filename} » refusé : le fichier est vide."})
    try:
        recording = await admin.add_recording(bytes(data), filename)
    except RecordingRejected as exc:
        raise HTTPException(422, {"message": str(exc)}) from exc
    key = recording.file.removeprefix("cti/")
    return RecordingOut(
        file=recording.file, seconds=round(recording.seconds, 2), url=f"/sounds/cti/{key}.wav"
    )
