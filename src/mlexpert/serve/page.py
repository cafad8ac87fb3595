"""The web page at ``/`` (model card and a form to try a prediction) and the model's report."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse

from ._jinja import template
from .errors import RequestError
from .security import check_api_key

router = APIRouter(tags=["web page"])
report_router = APIRouter(tags=["web page"], dependencies=[Depends(check_api_key)])




@router.get("/", response_class=HTMLResponse, summary="Model card and a form to try predictions")
async def page(request: Request, model: str | None = None, version: str | None = None) -> HTMLResponse:
    catalog = request.app.state.catalog
    served = catalog.get(model, version)
    base = f"/models/{served.name}/versions/{served.version}"
    card = served.card()
    html = template("index.html").render(
        card=card, card_json=json.dumps(card, default=str), predict_url=f"{base}/predict",
        report_url=f"{base}/report", needs_key=request.app.state.settings.api_key is not None,
        others=[m for m in catalog.all() if m is not served])
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@report_router.get("/models/{name}/versions/{version}/report", summary="The model's HTML report",
                   response_class=FileResponse)
async def report(request: Request, name: str, version: str):
    served = request.app.state.catalog.get(name, version)
    path = served.path / "report.html"
    if not path.exists():
        raise RequestError(404, f"Model {served.name} version {served.version} has no report.html; "
                                f"write one with `mlexpert report {served.path}`.")
    return FileResponse(path, media_type="text/html")
