"""The dashboard's web application: pages, JSON endpoints and server-sent events.

Routes
------
``/``                          the list of runs
``/run/<name>``                one run
``/compare?run=A&run=B``       several runs compared
``/api/runs``                  the list as JSON
``/api/run?name=N``            a run's whole payload (what the first event sends)
``/api/member?run=N&hash=H``   one member: record, hyperparameters, laid-out layer graph
``/api/compare?run=A&run=B``   the comparison as JSON
``/api/events/runs``           server-sent events: the list, on every change
``/api/events/run?name=N``     events: the run's payload, then only what is new
``/api/events/compare?run=..`` events: the comparison, on every change of its runs
``/static/...``                the pages' script and styles (shipped in the wheel)

Everything is read only: GET (and HEAD) only, no lock taken, no file written. A name that is
not a run folder found under the directory (``..``, a symlink out, anything else) is a 404.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from evosearch.dashboard import _pages
from evosearch.dashboard._runstate import Cursor, RunState
from evosearch.dashboard._watch import Watcher

__all__ = ["STATIC", "create_app"]

#: The folder of the page's script and styles (package data).
STATIC = Path(__file__).resolve().parent / "static"

_HEARTBEAT = 15.0  # seconds between keep-alive comments on an idle event stream
_COMPARE_EVERY = 1.0  # the comparison is recomputed at most this often


def dumps(data: Any) -> str:
    """JSON for the browser: NaN and infinities (which JSON lacks) become null."""
    try:
        return json.dumps(data, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps(_clean(data), allow_nan=False, separators=(",", ":"))


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        dumps(data),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {dumps(data)}\n\n"


def _stream(events: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def create_app(
    root: str | Path,
    *,
    interval: float = 0.5,
    allowed_hosts: Sequence[str] | None = None,
    label: str | None = None,
) -> Starlette:
    """The dashboard application serving the runs under ``root``.

    Parameters
    ----------
    root : path-like
        The directory of run folders.
    interval : float, default=0.5
        Seconds between two polls of the folders.
    allowed_hosts : sequence of str, optional
        The ``Host`` headers accepted (a page of another site cannot then reach the server
        through a name that points at this machine); None accepts any.
    label : str, optional
        How the pages name the directory (default: ``root`` as given).

    Returns
    -------
    starlette.applications.Starlette
    """
    watcher = Watcher(Path(root), interval=interval)
    shown = label or str(root)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(watcher.run_forever())
        try:
            yield
        finally:
            task.cancel()

    def run_or_404(name: str) -> RunState:
        run = watcher.get(name)
        if run is None:
            raise HTTPException(404, "no such run")
        return run

    async def runs_of(request: Request) -> list[RunState]:
        await watcher.ready()
        names = request.query_params.getlist("run")
        if len(names) < 2 or len(set(names)) != len(names):
            raise HTTPException(404, "a comparison needs two or more different runs")
        return [run_or_404(name) for name in names]

    def listing() -> list[dict[str, Any]]:
        return [run.summary() for run in watcher.runs.values()]

    # ------------------------------------------------------------------ pages
    async def list_page(request: Request) -> Response:
        return HTMLResponse(_pages.list_page(shown))

    async def run_page(request: Request) -> Response:
        # Not waiting for the first poll: the page's script and styles load meanwhile.
        name = request.path_params["name"]
        if not await anyio.to_thread.run_sync(watcher.exists, name):
            raise HTTPException(404, "no such run")
        return HTMLResponse(_pages.run_page(name, shown))

    async def compare_page(request: Request) -> Response:
        runs = await runs_of(request)
        return HTMLResponse(_pages.compare_page([run.name for run in runs], shown))

    # ------------------------------------------------------------------ JSON
    async def api_runs(request: Request) -> Response:
        await watcher.ready()
        return _json({"directory": shown, "runs": await watcher.read(listing)})

    async def api_run(request: Request) -> Response:
        await watcher.ready()
        run = run_or_404(request.query_params.get("name", ""))
        data, _ = await watcher.read(lambda: run.payload(Cursor()))
        return _json(data)

    async def api_member(request: Request) -> Response:
        from evosearch.dashboard._members import member_detail

        await watcher.ready()
        run = run_or_404(request.query_params.get("run", ""))
        genome_hash = request.query_params.get("hash", "")
        detail = await watcher.read(lambda: member_detail(run, genome_hash))
        if detail is None:
            raise HTTPException(404, "no such member")
        return _json(detail)

    async def api_compare(request: Request) -> Response:
        from evosearch.dashboard._compare import comparison

        runs = await runs_of(request)
        return _json(await watcher.read(lambda: comparison(runs)))

    # ------------------------------------------------------------------ events
    async def events_runs(request: Request) -> Response:
        await watcher.ready()

        async def events() -> AsyncIterator[str]:
            last = None
            while not watcher.stopping:
                token = watcher.token()
                text = dumps(await watcher.read(listing))
                if text != last:
                    last = text
                    yield f"event: runs\ndata: {text}\n\n"
                else:
                    yield ": idle\n\n"
                await watcher.changed(_HEARTBEAT, token)

        return _stream(events())

    async def events_run(request: Request) -> Response:
        await watcher.ready()
        run = run_or_404(request.query_params.get("name", ""))

        async def events() -> AsyncIterator[str]:
            cursor, seen = Cursor(), -1
            while not watcher.stopping:
                token = watcher.token()
                if run.version != seen:
                    seen = run.version
                    data, cursor = await watcher.read(partial(run.payload, cursor))
                    yield _event("run", data)
                else:
                    yield ": idle\n\n"
                await watcher.changed(_HEARTBEAT, token)

        return _stream(events())

    async def events_compare(request: Request) -> Response:
        from evosearch.dashboard._compare import comparison

        runs = await runs_of(request)

        async def events() -> AsyncIterator[str]:
            seen: list[int] = []
            while not watcher.stopping:
                token = watcher.token()
                versions = [run.version for run in runs]
                if versions != seen:
                    seen = versions
                    yield _event("compare", await watcher.read(lambda: comparison(runs)))
                    await asyncio.sleep(_COMPARE_EVERY)
                else:
                    yield ": idle\n\n"
                await watcher.changed(_HEARTBEAT, token)

        return _stream(events())

    middleware = []
    if allowed_hosts is not None:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)))
    app = Starlette(
        routes=[
            Route("/", list_page),
            Route("/run/{name:path}", run_page),
            Route("/compare", compare_page),
            Route("/api/runs", api_runs),
            Route("/api/run", api_run),
            Route("/api/member", api_member),
            Route("/api/compare", api_compare),
            Route("/api/events/runs", events_runs),
            Route("/api/events/run", events_run),
            Route("/api/events/compare", events_compare),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.watcher = watcher
    return app
