"""The partner directory: view and edit it as TOML, validate without saving, upload a file.

Both buttons and the upload go through the API's own reading and checks
(:func:`gateway.api.routes.partners.directory_from_bytes`, then
:class:`~gateway.partners.PartnerDirectory`), so the errors are the API's: field and rule.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.api.console.context import Screen, console_store, signed_in
from gateway.api.console.forms import field, file_field
from gateway.api.console.page import render
from gateway.api.console.tomltext import dump_directory
from gateway.api.problems import Problem, from_lingang_error
from gateway.api.routes.partners import directory_from_bytes
from gateway.errors import LingangError
from gateway.partners import PartnerDirectory
from gateway.partners.document import MAX_DIRECTORY_BYTES
from gateway.store.partner_directory import directory_document, directory_entries, replace_directory

routes = web.RouteTableDef()
TOML = "application/toml"


@routes.get("/partners")
async def partners(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    document = await directory_document(console_store(request), tenant.id)
    return _page(request, dump_directory(document), outcome="", count=_count(document))


@routes.post("/partners")
async def change_partners(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    upload = file_field(request, "toml_file")
    if upload is not None and upload.filename:
        raw = upload.file.read(MAX_DIRECTORY_BYTES + 1)
    else:
        raw = field(request, "toml", limit=MAX_DIRECTORY_BYTES + 1).encode("utf-8")
    text = raw.decode("utf-8", errors="replace")[:MAX_DIRECTORY_BYTES]
    save = field(request, "action") != "validate"
    try:
        data = directory_from_bytes(raw, TOML)
        if save:
            count = await replace_directory(console_store(request), tenant.id, data)
        else:
            PartnerDirectory.from_dict(data)
            count = len(directory_entries(data))
    except Problem as refused:
        return _page(request, text, outcome="", count=0, problem=refused, status=refused.status)
    except LingangError as exc:
        mapped = from_lingang_error(exc)
        return _page(request, text, outcome="", count=0, problem=mapped, status=mapped.status)
    if save:
        text = dump_directory(await directory_document(console_store(request), tenant.id))
    return _page(request, text, outcome="saved" if save else "valid", count=count)


def _page(
    request: web.Request,
    text: str,
    *,
    outcome: str,
    count: int,
    problem: Problem | None = None,
    status: int = 200,
) -> web.Response:
    return render(
        request,
        "partners.html",
        status=status,
        toml=text,
        outcome=outcome,
        count=count,
        problem=problem,
    )


def _count(document: dict[str, Any]) -> int:
    return sum(len(v) for v in document.values())


SCREEN = Screen(name="partners", routes=routes, menu_path="/partners", order=40)
