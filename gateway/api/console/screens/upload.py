"""Upload a fapiao or an eBL (drag and drop, or the plain file input) and see the result.

The form goes through the same checks as ``POST /v1/documents`` (:func:`checked_upload`):
the same refusals, shown with their field and rule. The document's kind is detected by the
readable registry (the renderer that recognises the bytes): an eBL (DCSA JSON, a PINT
envelope, UBL BillOfLading) goes to the ``ebl-out`` flow as ``POST /v1/documents?kind=ebl``
would, anything else to the invoice flow, whose checks name what is wrong with it. The
"send again on purpose" box is ``resend=true``: without it, a fapiao sent already is refused
(``already-sent``), so a second click sends nothing twice.
"""

from __future__ import annotations

from aiohttp import web

from gateway.api.console.context import PREFIX, Screen, signed_in
from gateway.api.console.forms import field, file_field
from gateway.api.console.page import redirect, render
from gateway.api.context import OPTIONS, services
from gateway.api.ingest import RAW_TYPES, Upload, checked_upload, unprocessable
from gateway.api.problems import Problem
from gateway.api.routes.documents import FLOW_BY_KIND
from gateway.mapping.profiles import PROFILE_SPECS
from gateway.readable import RenderSource, renderer_for

routes = web.RouteTableDef()
EBL = "ebl"
INVOICE = "invoice"
SUFFIX_TYPES = {
    ".xml": "application/xml",
    ".json": "application/json",
    ".ofd": "application/ofd",
    ".zip": "application/zip",
}


@routes.get("/upload")
async def upload_form(request: web.Request) -> web.Response:
    return render(request, "upload.html", problem=None, profiles=list(PROFILE_SPECS))


@routes.post("/upload")
async def upload(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    try:
        document = _read(request)
        submission, _created = await services(request).submissions.submit(
            tenant.id,
            document.body,
            content_type=document.content_type,
            filename=document.filename,
            metadata=document.metadata,
            idempotency_key=None,
            flow=FLOW_BY_KIND[document.metadata.get("kind", INVOICE)],
        )
    except Problem as problem:
        return render(
            request,
            "upload.html",
            status=problem.status,
            problem=problem,
            profiles=list(PROFILE_SPECS),
        )
    raise redirect(f"{PREFIX}/documents/{submission.id}")


def _read(request: web.Request) -> Upload:
    part = file_field(request, "document")
    if part is None:
        raise unprocessable("choose a file to upload", "document", "required")
    limit = request.config_dict[OPTIONS].max_body_bytes
    body = part.file.read(limit + 1)
    if len(body) > limit:
        raise unprocessable(f"the file exceeds {limit} bytes", "document", "max-body-bytes")
    media_type = (part.content_type or "").split(";")[0].strip().lower()
    suffix = "." + part.filename.rpartition(".")[2].lower() if "." in part.filename else ""
    if media_type not in RAW_TYPES:
        media_type = SUFFIX_TYPES.get(suffix, "application/octet-stream")
    metadata = {name: field(request, name) for name in ("profile", "recipient", "resend")}
    upload = Upload(
        body, media_type, part.filename or None, {k: v for k, v in metadata.items() if v}
    )
    checked = checked_upload(upload)
    if detected_kind(checked.body) == EBL:
        checked.metadata["kind"] = EBL
    return checked


def detected_kind(body: bytes) -> str:
    """``ebl`` when the readable registry's eBL renderer recognises ``body``, else
    ``invoice``."""
    source = RenderSource(data=body, kind=EBL)
    return EBL if renderer_for(source).accepts(source) else INVOICE


SCREEN = Screen(name="upload", routes=routes, menu_path="/upload", order=20)
