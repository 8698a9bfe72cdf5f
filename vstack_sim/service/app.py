"""The V-Stack metadata service over a run's catalog: ``vstack-sim serve RESULT_DIR``.

A FastAPI application (the ``[serve]`` extra: fastapi, uvicorn, and
swagger-ui-bundle for offline ``/docs``) with the design's four endpoints and
their JSON shapes, plus ``DELETE`` for the design's ``clear_manual_override``:

* ``GET /redundancy/recommend/{video_id}``: the real :class:`RedundancyManager`'s
  ``recommend`` for the video's ``view_count`` in ``video_stats``;
* ``POST /redundancy/override/{video_id}?mode=replication|erasure_coding`` and
  ``DELETE /redundancy/override/{video_id}``;
* ``GET /redundancy/efficiency``: the manager's ``efficiency`` plus which
  popularity threshold is in force (``POPULARITY_THRESHOLD`` or the run's);
* ``GET /storage/overhead``: the real :class:`StorageLedger` over the chunks
  of the catalog in each ``redundancy_mode``.

``video_id`` in paths and answers is the ``video_key``. The run's
``catalog.sqlite`` is opened read-only and never changed; overrides live in
``serve-state.sqlite`` beside it (WAL mode), are loaded into the manager at
start, and so survive a restart. Writes go to the database and the manager
under one lock, so the served state is always the last write.

Errors are JSON: 404 ``{"detail": ...}`` for an unknown video, 422 with a
``detail`` line naming the bad parameter.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import stat
import sys
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

from vstack_sim.results.catalog_db import CATALOG_FILE
from vstack_sim.results.serve_lock import ServiceLocked, hold_service_lock
from vstack_sim.system.ledger import StorageLedger
from vstack_sim.system.manager import RedundancyManager
from vstack_sim.system.modes import RedundancyMode
from vstack_sim.system.policies import threshold_from_env

__all__ = ["STATE_FILE", "ServeError", "CatalogService", "create_app", "serve"]

STATE_FILE = "serve-state.sqlite"
_ENV = "POPULARITY_THRESHOLD"
_META_KEYS = ("popularity_threshold", "replication_factor", "data_shards", "parity_shards", "chunk_size",
              "hysteresis", "policy")


class ServeError(ValueError):
    """A results folder that cannot be served; the message is one line."""


class CatalogService:
    """The real manager and ledger over one catalog, with overrides persisted beside it."""

    def __init__(self, folder: str | Path):
        folder = Path(folder)
        self.catalog_path = folder / CATALOG_FILE
        if not folder.is_dir():
            raise ServeError(f"{folder}: no such results folder")
        if not self.catalog_path.is_file():
            raise ServeError(f"{folder}: no {CATALOG_FILE}; build it with: vstack-sim catalog {folder}")
        self._local = threading.local()
        self._lock_fd: int | None = None
        self._state: sqlite3.Connection | None = None
        meta, counts = self._read_catalog()
        self.meta = meta
        env = os.environ.get(_ENV, "").strip()
        # The design's rule: the environment variable when set, else the run's own threshold.
        threshold = None if env else self._meta_int("popularity_threshold")
        self.threshold_source = f"environment ({_ENV})" if env else "run (redundancy.popularity_threshold)"
        try:
            hysteresis = float(meta["hysteresis"])
        except ValueError:
            raise self._bad_meta("hysteresis", "must be a number") from None
        try:
            self.manager = RedundancyManager(
                popularity_threshold=threshold, replication_factor=self._meta_int("replication_factor"),
                erasure_data_shards=self._meta_int("data_shards"),
                erasure_parity_shards=self._meta_int("parity_shards"),
                chunk_size=self._meta_int("chunk_size"), hysteresis=hysteresis,
                policy=self._run_policy(meta, threshold) or meta["policy"])
        except ValueError as exc:
            raise ServeError(f"{self.catalog_path}: catalog_meta does not make a redundancy manager: {exc}") from None
        self.ledger = StorageLedger(self.manager)
        self.mode_counts = (counts.get("replication", 0), counts.get("erasure_coding", 0))
        self._lock = threading.Lock()
        self.state_path = folder / STATE_FILE
        try:
            # Held for the service's life: `run --force` and a second service on this folder are refused.
            self._lock_fd = hold_service_lock(folder)
        except ServiceLocked as exc:
            raise ServeError(str(exc)) from None
        try:
            saved = self._open_state()
        except BaseException:
            self.close()
            raise
        for video_id, mode in saved:
            self.manager.set_manual_override(video_id, mode)

    def _read_catalog(self) -> tuple[dict, dict]:
        """catalog_meta and the active chunks per mode; the schema the endpoints query is checked here."""
        try:
            conn = self._catalog()
            meta = dict(conn.execute("SELECT key, value FROM catalog_meta").fetchall())
            counts = dict(conn.execute(
                # Lost chunks hold no bytes: they leave the ledger (as in the run's summary).
                "SELECT redundancy_mode, COUNT(*) FROM chunks WHERE status = 'active' "
                "GROUP BY redundancy_mode").fetchall())
            conn.execute("SELECT video_id, view_count FROM video_stats LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            raise ServeError(f"{self.catalog_path}: not a vstack-sim catalog ({exc})") from None
        missing = [key for key in _META_KEYS if key not in meta]
        if missing:
            raise ServeError(f"{self.catalog_path}: catalog_meta has no {', '.join(missing)}; "
                             f"not a complete vstack-sim catalog")
        return meta, counts

    def _bad_meta(self, key: str, why: str) -> ServeError:
        return ServeError(f"{self.catalog_path}: catalog_meta {key}: {why}, got {self.meta[key]!r}")

    def _meta_int(self, key: str) -> int:
        text = str(self.meta[key]).strip()
        if not (text.isascii() and text.isdigit()):
            raise self._bad_meta(key, "must be a non-negative integer")
        return int(text)

    def _open_state(self) -> list:
        """Open serve-state.sqlite, refusing a symbolic link there; returns the saved overrides."""
        for name in (STATE_FILE, f"{STATE_FILE}-wal", f"{STATE_FILE}-shm"):
            path = self.state_path.with_name(name)
            if path.is_symlink():
                raise ServeError(f"{path}: is a symbolic link; the service's state must be a file in the folder")
        try:
            fd = os.open(self.state_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise ServeError(f"{self.state_path}: cannot open the service's state: {exc.strerror or exc}") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ServeError(f"{self.state_path}: not a regular file")
            self._state = sqlite3.connect(self.state_path, check_same_thread=False, isolation_level=None)
            self._state.execute("PRAGMA journal_mode=WAL")
            self._state.execute("PRAGMA synchronous=NORMAL")   # WAL: durable across a crash of the service
            self._state.execute("CREATE TABLE IF NOT EXISTS overrides (video_id TEXT PRIMARY KEY, "
                                "mode TEXT NOT NULL, set_at TEXT NOT NULL)")
            return self._state.execute("SELECT video_id, mode FROM overrides").fetchall()
        except sqlite3.Error as exc:
            raise ServeError(f"{self.state_path}: cannot open the service's state ({exc})") from None
        finally:
            os.close(fd)

    def _catalog(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            uri = f"{self.catalog_path.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    def _run_policy(self, meta: dict, threshold: int | None):
        """The run's policy with all its settings (catalogs written before they were kept: None, by name). The
        threshold is the environment's when it is set, as the design's rule has it."""
        if "policy_settings" not in meta:
            return None
        from vstack_sim.scenario.policy_schema import MigrationConfig, RedundancyConfig, policy_from_config
        from vstack_sim.scenario.prices_schema import Prices

        try:
            settings = json.loads(meta["policy_settings"])
            red = settings["redundancy"]
            if threshold is None:                 # the environment sets it
                red = {**red, "popularity_threshold": threshold_from_env()}
            return policy_from_config(RedundancyConfig.model_validate(red),
                                      MigrationConfig.model_validate(settings["migration"]),
                                      Prices.model_validate(settings["prices"]), self._meta_int("chunk_size"))
        except (ValueError, KeyError, TypeError) as exc:
            raise self._bad_meta("policy_settings", f"does not make the run's policy: {exc}") from None

    def view_count(self, video_id: str) -> int | None:
        row = self._catalog().execute("SELECT view_count FROM video_stats WHERE video_id = ?",
                                      (video_id,)).fetchone()
        return None if row is None else int(row[0])

    def recommend(self, video_id: str) -> dict | None:
        views = self.view_count(video_id)
        if views is None:
            return None
        row = self._catalog().execute("SELECT chunk_count FROM videos WHERE video_key = ?", (video_id,)).fetchone()
        size = None if row is None else int(row[0]) * self.manager.chunk_size   # the size policy asks it
        return self.manager.recommend(video_id, views, size_bytes=size)

    def set_override(self, video_id: str, mode: RedundancyMode) -> dict:
        with self._lock:
            self._state.execute("INSERT OR REPLACE INTO overrides VALUES (?, ?, ?)",
                                (video_id, mode.value, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
            return self.manager.override(video_id, mode)

    def clear_override(self, video_id: str) -> dict:
        with self._lock:
            self._state.execute("DELETE FROM overrides WHERE video_id = ?", (video_id,))
            self.manager.clear_manual_override(video_id)
        return {"status": "ok", "video_id": video_id, "override_mode": None,
                "message": "Manual override cleared"}

    def efficiency(self) -> dict:
        out = self.manager.efficiency()
        out["popularity_threshold"] = {"value": self.manager.popularity_threshold, "source": self.threshold_source}
        return out

    def overhead(self) -> dict:
        return self.ledger.overhead(*self.mode_counts)

    def close(self) -> None:
        with self._lock:
            if self._state is not None:
                self._state.close()   # the last connection: SQLite checkpoints the WAL and removes it
                self._state = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)   # releases the folder's service lock
                self._lock_fd = None


def _docs_assets() -> Path | None:
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    path = Path(str(swagger_ui_bundle.swagger_ui_path))
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def create_app(folder: str | Path, log=None):
    """The FastAPI application serving ``folder``'s catalog (raises :class:`ServeError`).

    ``log``, when given, receives one line per request: client, method, path, status and time taken.
    """
    from fastapi import FastAPI, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import JSONResponse, RedirectResponse
    from fastapi.staticfiles import StaticFiles

    service = CatalogService(folder)

    @asynccontextmanager
    async def lifespan(app):
        yield
        service.close()

    app = FastAPI(title="V-Stack metadata service (vstack-sim)", version=service.meta.get("schema_version", "1"),
                  description=f"Adaptive redundancy over the catalog of scenario {service.meta.get('scenario')!r}.",
                  docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.service = service

    if log is not None:
        @app.middleware("http")
        async def one_line_per_request(request: Request, call_next):
            start = time.perf_counter()
            response = await call_next(request)
            client = request.client.host if request.client else "-"
            log(f"vstack-sim: {client} {request.method} {request.url.path} {response.status_code} "
                f"{(time.perf_counter() - start) * 1000:.1f} ms")
            return response

    @app.get("/", include_in_schema=False)
    def root():
        return RedirectResponse("/docs")      # a browser pointed at the service lands on its documentation

    def not_found(video_id: str):
        return JSONResponse(status_code=404, content={"detail": f"video_id: no video {video_id!r} in the catalog"})

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        where = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body")]
        name = ".".join(where) or "request"
        got = f", got {first['input']!r}" if first.get("input") is not None else ""
        return JSONResponse(status_code=422, content={
            "detail": f"{name}: {first.get('msg')}{got}",
            "errors": [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors]})

    @app.get("/redundancy/recommend/{video_id:path}", summary="Recommended redundancy mode of a video")
    async def recommend(video_id: str):
        answer = service.recommend(video_id)
        return not_found(video_id) if answer is None else answer

    mode_query = Query(..., description="replication or erasure_coding")  # B008: built once, as a default would be

    @app.post("/redundancy/override/{video_id:path}", summary="Set a manual override")
    async def set_override(video_id: str, mode: RedundancyMode = mode_query):
        if service.view_count(video_id) is None:
            return not_found(video_id)
        return service.set_override(video_id, mode)

    @app.delete("/redundancy/override/{video_id:path}", summary="Clear a manual override (back to automatic)")
    async def clear_override(video_id: str):
        if service.view_count(video_id) is None:
            return not_found(video_id)
        return service.clear_override(video_id)

    @app.get("/redundancy/efficiency", summary="Storage efficiency of the two modes")
    async def efficiency():
        return service.efficiency()

    @app.get("/storage/overhead", summary="Storage overhead of the catalog's chunks")
    async def overhead():
        return service.overhead()

    assets = _docs_assets()
    if assets is not None:
        # Swagger UI from the installed swagger-ui-bundle package: /docs works with no network at all.
        app.mount("/docs/assets", StaticFiles(directory=assets), name="docs-assets")

        @app.get("/docs", include_in_schema=False)
        def docs():
            return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} - docs",
                                       swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                                       swagger_css_url="/docs/assets/swagger-ui.css",
                                       swagger_favicon_url="/docs/assets/favicon-32x32.png")
    return app


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def serve(folder: str | Path, host: str = "127.0.0.1", port: int = 8080, echo=None, quiet: bool = False) -> int:
    """Run the service until SIGINT or SIGTERM; ``port`` 0 picks a free one (the line printed says which).

    Each request is a line on standard error (through ``echo``) unless ``quiet``.
    """
    echo = echo or (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ServeError("vstack-sim serve needs the serve extra: pip install 'vstack-sim[serve]'") from None
    import uvicorn

    # Bind first: a port in use or a host that does not resolve leaves nothing written in the folder.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP (not 0): asyncio sets TCP_NODELAY only on such sockets, and without it every
    # response body waits ~40 ms for the client's delayed ACK of the headers (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"--host {host} --port {port}: cannot listen there: {exc.strerror or exc}") from None
    try:
        app = create_app(folder, log=None if quiet else echo)
    except BaseException:
        sock.close()
        raise
    if not _is_loopback(host):
        echo(f"vstack-sim: warning: --host {host} accepts connections from other machines; "
             f"the service has no authentication")
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    echo(f"vstack-sim: serving {folder} on http://{shown}:{bound} (docs: /docs, schema: /openapi.json)")
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again under the handler it found;
    # with this one in place that second delivery is a no-op, so a stopped service exits with status 0.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        server.run(sockets=[sock])
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0
