"""The labeling page's HTTP side (FastAPI): the page itself and a small JSON API.
Every request needs the token (header `X-Token`, or `?token=` for the page); bodies
are validated and capped; nothing here builds SQL."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from .web import MAX_BODY, Rejected, WebOracle, page_html

Client = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client: Client


class LabelBody(Body):
    item_id: str = Field(min_length=1, max_length=512)
    label: int


class SkipBody(Body):
    item_id: str = Field(min_length=1, max_length=512)


def make_app(oracle: WebOracle) -> FastAPI:
    app = FastAPI(title="w2s labeling", docs_url=None, redoc_url=None, openapi_url=None)
    queue = oracle.queue

    def authorized(x_token: Annotated[str | None, Header()] = None,
                   token: Annotated[str | None, Query(max_length=128)] = None) -> None:
        given = x_token or token or ""
        if not secrets.compare_digest(given.encode(), oracle.token.encode()):
            raise HTTPException(401, "a valid access token is required (the campaign printed it)")

    @app.middleware("http")
    async def cap_body(request: Request, call_next):
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > MAX_BODY):
            return JSONResponse({"detail": f"body over {MAX_BODY} bytes"}, status_code=413)
        if request.method == "POST" and size is None:
            return JSONResponse({"detail": "a Content-Length header is required"}, status_code=411)
        return await call_next(request)

    @app.exception_handler(Rejected)
    async def rejected(_request: Request, e: Rejected):
        return JSONResponse({"detail": str(e)}, status_code=e.status)

    @app.get("/", response_class=HTMLResponse, dependencies=[Depends(authorized)])
    def page() -> str:
        return page_html()

    @app.get("/api/next", dependencies=[Depends(authorized)])
    def next_item(client: Annotated[str, Query(min_length=8, max_length=64,
                                                 pattern=r"^[A-Za-z0-9_-]+$")]) -> dict:
        item = queue.next_for(client)
        out = {"labels": oracle.dataset.labels, "item": None,
               "progress": queue.progress(oracle.labeled_before(), oracle.budget),
               "waiting": queue.recorder is not None}
        if item is not None:
            out["item"] = {"id": item.id, "text": item.text, "category": item.category,
                           "question": item.question or oracle.dataset.question}
            got = oracle.predictions(item.id) if oracle.show_predictions and oracle.predictions else None
            if got is not None:
                out["item"]["predictions"] = {"weak_head": got[0], "truth_head": got[1]}
        return out

    @app.post("/api/label", dependencies=[Depends(authorized)])
    def label(body: LabelBody) -> dict:
        return {"status": queue.answer(body.client, body.item_id, body.label),
                "item_id": body.item_id}

    @app.post("/api/skip", dependencies=[Depends(authorized)])
    def skip(body: SkipBody) -> dict:
        return {"status": queue.answer(body.client, body.item_id, None), "item_id": body.item_id}

    @app.post("/api/undo", dependencies=[Depends(authorized)])
    def undo(body: Body) -> dict:
        item_id = queue.undo(body.client)
        if item_id is None:
            raise HTTPException(409, "nothing of yours to undo in this batch")
        return {"status": "undone", "item_id": item_id}

    @app.post("/api/stop", dependencies=[Depends(authorized)])
    def stop(body: Body) -> dict:
        queue.stop()
        return {"status": "stopping: the campaign pauses; resume it to go on"}

    return app
