"""Writes (API key with scope ``ingest``): exposures, cases, crowd, and raw disaster messages.

A body is one batch, read by the same canonical readers as ``ansim ingest canonical-*`` (JSON array
or ``{"records": [...]}``, or CSV as ``text/csv`` or a multipart ``file``), validated in full, and
written by :mod:`ansim.store.ingest` in one transaction (a batch already committed, byte for byte,
writes nothing). ``Idempotency-Key`` is honoured: the first answer is stored and a replay returns it
unchanged (``Idempotency-Replayed: true``); the same key with another body is a 422. After the
commit the worker applies the batch to its live risk engine before answering.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Header, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ansim.api.deps import IngestKey, RateLimited, StateDep
from ansim.api.keys import ApiKey
from ansim.api.models import AlertBatchIn, AlertIngestAnswer, AlertMessageIn, IngestAnswer
from ansim.api.problems import Problem
from ansim.api.state import PlatformState
from ansim.errors import InputError
from ansim.store import schema
from ansim.store.ingest import IngestResult

router = APIRouter(prefix="/v1", tags=["ingest"])

MAX_BODY_BYTES = 20 * 1024 * 1024
JSON_TYPES = {"application/json", "application/geo+json"}
CSV_TYPES = {"text/csv", "application/csv", "text/plain"}
GZIP_TYPES = {"application/gzip", "application/x-gzip"}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Any unique string per logical request; a replay returns the first answer.",
    ),
]


# --- documentation models of the canonical records (the readers validate) ------------------------


class ExposureRecord(BaseModel):
    source: str
    source_record_id: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    start: datetime
    end: datetime
    radius_m: float | None = Field(default=None, ge=0, le=100_000)
    precision: str | None = Field(
        default=None, description="point, place, dong, gu, city or unknown"
    )
    place_name: str | None = None
    address: str | None = None
    place_type: str | None = None
    region_code: str | None = None
    cases: int | None = Field(default=None, ge=0)


class CaseRecord(BaseModel):
    region_code: str
    date: str = Field(description="YYYY-MM-DD")
    new_cases: int = Field(ge=0)
    source: str


class CrowdRecord(BaseModel):
    area: str = Field(description="Region code, or h3:<cell hex>")
    period_start: datetime
    period_s: int = Field(ge=1)
    count: float = Field(ge=0)
    source: str


def _body_doc(model: type[BaseModel], csv_header: str) -> dict[str, Any]:
    items = model.model_json_schema()
    array = {"type": "array", "items": items}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "anyOf": [
                            array,
                            {
                                "type": "object",
                                "required": ["records"],
                                "properties": {"records": array},
                            },
                        ]
                    }
                },
                "text/csv": {"schema": {"type": "string"}, "example": csv_header},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    }


# --- shared write path -------------------------------------------------------------------------------


async def _read_body(request: Request) -> tuple[bytes, str]:
    """(bytes, suffix of a file holding them) of the batch: JSON, CSV, gzip, or multipart ``file``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Problem(413, f"a batch is at most {MAX_BODY_BYTES // (1024 * 1024)} MiB")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Problem(
                422,
                "multipart upload needs a 'file' part",
                errors=[{"field": "body.file", "reason": "missing"}],
            )
        data = await upload.read()
        name = (upload.filename or "upload.csv").lower()
        suffix = ".json" if ".json" in name else ".csv"
        if name.endswith(".gz"):
            suffix += ".gz"
    else:
        data = await request.body()
        if ctype in JSON_TYPES:
            suffix = ".json"
        elif ctype in CSV_TYPES:
            suffix = ".csv"
        elif ctype in GZIP_TYPES:
            suffix = ".csv.gz"
        else:
            raise Problem(
                415,
                "send application/json, text/csv, application/gzip or multipart/form-data",
                errors=[{"field": "header.content-type", "reason": f"unsupported: {ctype!r}"}],
            )
    if len(data) > MAX_BODY_BYTES:
        raise Problem(413, f"a batch is at most {MAX_BODY_BYTES // (1024 * 1024)} MiB")
    if not data.strip():
        raise Problem(422, "empty batch", errors=[{"field": "body", "reason": "no records"}])
    if suffix.startswith(".json") and data[:2] != b"\x1f\x8b":
        try:
            orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise Problem(
                422, f"not JSON: {exc}", errors=[{"field": "body", "reason": "not JSON"}]
            ) from None
    return data, suffix


def _replay(
    state: PlatformState, key: ApiKey, idem: str, endpoint: str, digest: str
) -> Response | None:
    t = schema.idempotency_records
    with state.db.connect() as conn:
        row = conn.execute(
            sa.select(t).where(t.c.key_id == key.id, t.c.idempotency_key == idem)
        ).first()
    if row is None:
        return None
    if row.endpoint != endpoint or row.request_sha256 != digest:
        raise Problem(
            422,
            "this Idempotency-Key was used with a different request",
            type_="idempotency-key-reused",
            errors=[{"field": "header.idempotency-key", "reason": "reused with another body"}],
        )
    return Response(
        row.response_body.encode(),
        status_code=row.status_code,
        media_type="application/json",
        headers={"Idempotency-Replayed": "true"},
    )


def _remember(
    state: PlatformState,
    key: ApiKey,
    idem: str,
    endpoint: str,
    digest: str,
    status: int,
    body: bytes,
) -> Response | None:
    """Store the answer; if a concurrent request stored one first, return that one instead."""
    try:
        with state.db.begin() as conn:
            conn.execute(
                sa.insert(schema.idempotency_records).values(
                    key_id=key.id,
                    idempotency_key=idem,
                    endpoint=endpoint,
                    request_sha256=digest,
                    status_code=status,
                    response_body=body.decode(),
                    created_at=datetime.now(UTC),
                )
            )
    except IntegrityError:
        return _replay(state, key, idem, endpoint, digest)
    return None


def _answer(
    result: IngestResult, applied: bool, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "batch_id": result.batch_id,
        "table": result.table,
        "rows_accepted": result.rows_accepted,
        "rows_new": result.rows_new,
        "already_loaded": result.already_loaded,
        "checksum_sha256": result.checksum,
        "applied": applied,
        **(extra or {}),
    }


async def _write(
    request: Request,
    state: PlatformState,
    key: ApiKey,
    idem: str | None,
    endpoint: str,
    run: Callable[[bytes, str, str], tuple[IngestResult, dict[str, Any]]],
    *,
    read: Callable[[Request], Any] = _read_body,
) -> Response:
    data, suffix = await read(request)
    digest = hashlib.sha256(endpoint.encode() + b"\0" + data).hexdigest()
    if idem is not None:
        replay = await run_in_threadpool(_replay, state, key, idem, endpoint, digest)
        if replay is not None:
            return replay
    file_name = f"POST /v1/{endpoint} (key {key.id})"
    result, extra = await run_in_threadpool(run, data, suffix, file_name)
    applied = True
    if not result.already_loaded:
        await state.refresh()
        applied = state.last_batch_id >= (result.batch_id or 0)
    status = 200 if result.already_loaded else 201
    body = orjson.dumps(_answer(result, applied, extra))
    if idem is not None:
        earlier = await run_in_threadpool(
            _remember, state, key, idem, endpoint, digest, status, body
        )
        if earlier is not None:
            return earlier
    return Response(body, status_code=status, media_type="application/json")


def _canonical(
    state: PlatformState,
    reader: Callable[[Path], Any],
    writer: Callable[..., IngestResult],
    arg: str,
    source: str,
) -> Callable[[bytes, str, str], tuple[IngestResult, dict[str, Any]]]:
    def run(data: bytes, suffix: str, file_name: str) -> tuple[IngestResult, dict[str, Any]]:
        with tempfile.TemporaryDirectory(prefix="ansim-api-") as tmp:
            path = Path(tmp) / f"request{suffix}"
            path.write_bytes(data)
            try:
                records = reader(path)
            except InputError as exc:
                exc.source = "request body"
                raise InputError(
                    exc.reason, source="request body", row=exc.row, field=exc.field
                ) from None
        if (isinstance(records, list) and not records) or getattr(records, "empty", False):
            raise InputError("no records in the batch", source="request body")
        checksum = hashlib.sha256(data).hexdigest()
        result = writer(
            state.db, source=source, checksum=checksum, file_name=file_name, **{arg: records}
        )
        return result, {}

    return run


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Already loaded: the same batch was committed before (nothing changed)."},
    201: {"description": "Written and applied to the live risk engine."},
}


@router.post(
    "/exposures",
    status_code=201,
    response_model=IngestAnswer,
    responses=_RESPONSES,
    summary="Add exposure events (canonical-exposures)",
    openapi_extra=_body_doc(
        ExposureRecord, "source,source_record_id,lat,lon,start,end,precision,place_name\n"
    ),
)
async def post_exposures(
    request: Request, state: StateDep, key: IngestKey, _: RateLimited, idem: IdempotencyKey = None
) -> Response:
    """Places and times confirmed cases visited (docs/formats.md, ``canonical-exposures``)."""
    from ansim.sources.canonical import read_exposures
    from ansim.store.ingest import ingest_exposures

    run = _canonical(state, read_exposures, ingest_exposures, "events", "api-exposures")
    return await _write(request, state, key, idem, "exposures", run)


@router.post(
    "/cases",
    status_code=201,
    response_model=IngestAnswer,
    responses=_RESPONSES,
    summary="Add daily case counts (canonical-cases)",
    openapi_extra=_body_doc(CaseRecord, "region_code,date,new_cases,source\n"),
)
async def post_cases(
    request: Request, state: StateDep, key: IngestKey, _: RateLimited, idem: IdempotencyKey = None
) -> Response:
    """Daily confirmed cases per region (docs/formats.md, ``canonical-cases``)."""
    from ansim.sources.canonical import read_cases
    from ansim.store.ingest import ingest_cases

    run = _canonical(state, read_cases, ingest_cases, "frame", "api-cases")
    return await _write(request, state, key, idem, "cases", run)


@router.post(
    "/crowd",
    status_code=201,
    response_model=IngestAnswer,
    responses=_RESPONSES,
    summary="Add crowd observations (canonical-crowd)",
    openapi_extra=_body_doc(CrowdRecord, "area,period_start,period_s,count,source\n"),
)
async def post_crowd(
    request: Request, state: StateDep, key: IngestKey, _: RateLimited, idem: IdempotencyKey = None
) -> Response:
    """People present in an area over a period (docs/formats.md, ``canonical-crowd``)."""
    from ansim.sources.canonical import read_crowd
    from ansim.store.ingest import ingest_crowd

    run = _canonical(state, read_crowd, ingest_crowd, "frame", "api-crowd")
    return await _write(request, state, key, idem, "crowd", run)


# --- disaster messages ------------------------------------------------------------------------------


async def _read_alerts(request: Request) -> tuple[bytes, str]:
    """A canonical JSON of the messages (text/plain takes ``sent_at``, ``issuer``, ``region`` from the query)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data = await request.body()
    if len(data) > MAX_BODY_BYTES:
        raise Problem(413, "too large")
    if ctype == "text/plain":
        q = request.query_params
        raw: Any = {
            "text": data.decode("utf-8", errors="replace"),
            "sent_at": q.get("sent_at"),
            "issuer": q.get("issuer"),
            "region": q.get("region", ""),
        }
    elif ctype in JSON_TYPES:
        try:
            raw = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise Problem(
                422, f"not JSON: {exc}", errors=[{"field": "body", "reason": "not JSON"}]
            ) from None
    else:
        raise Problem(
            415,
            "send application/json, or text/plain with ?sent_at=",
            errors=[{"field": "header.content-type", "reason": f"unsupported: {ctype!r}"}],
        )
    model: type[BaseModel] = (
        AlertBatchIn if isinstance(raw, dict) and "messages" in raw else AlertMessageIn
    )
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors(include_url=False)]
        ) from None
    batch = (
        parsed if isinstance(parsed, AlertBatchIn) else AlertBatchIn(messages=[parsed])  # type: ignore[list-item]
    )
    return batch.model_dump_json().encode(), ".json"


def _alerts_run(
    state: PlatformState,
) -> Callable[[bytes, str, str], tuple[IngestResult, dict[str, Any]]]:
    def run(data: bytes, _suffix: str, file_name: str) -> tuple[IngestResult, dict[str, Any]]:
        from ansim.alerts.sources import RawMessage
        from ansim.alerts.stats import message_rows, parse_raw
        from ansim.store.ingest import ingest_alert_messages
        from ansim.timeutil import as_seoul

        batch = AlertBatchIn.model_validate_json(data)
        messages = []
        for m in batch.messages:
            sent = as_seoul(m.sent_at)
            ident = m.id or hashlib.sha256(f"{sent.isoformat()}|{m.text}".encode()).hexdigest()[:24]
            messages.append(
                RawMessage(
                    sent_at=sent,
                    issuer=m.issuer or "",
                    region=m.region,
                    text=m.text,
                    source_id=f"api:{ident}",
                )
            )
        events, rows = message_rows(messages, source="api-alerts")
        result = ingest_alert_messages(
            state.db,
            source="api-alerts",
            messages=rows,
            events=events,
            checksum=hashlib.sha256(data).hexdigest(),
            file_name=file_name,
        )
        parsed = [
            {
                "id": row["id"],
                "kind": row["kind"],
                "issuer": row["issuer"],
                "status": row["status"],
                "reason": row["reason"],
                "events": row["events"],
                "visits": parse_raw(m).as_json()["visits"],
            }
            for m, row in zip(messages, rows, strict=True)
        ]
        return result, {"messages": parsed}

    return run


@router.post(
    "/alerts/messages",
    status_code=201,
    response_model=AlertIngestAnswer,
    responses=_RESPONSES,
    summary="Add raw disaster messages (재난문자): parsed into exposure events",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/AlertBatchIn"},
                            {"$ref": "#/components/schemas/AlertMessageIn"},
                        ]
                    }
                },
                "text/plain": {"schema": {"type": "string"}},
            },
        },
        "parameters": [
            {
                "name": "sent_at",
                "in": "query",
                "required": False,
                "description": "Send time of a text/plain message.",
                "schema": {"type": "string", "format": "date-time"},
            }
        ],
    },
)
async def post_alert_messages(
    request: Request, state: StateDep, key: IngestKey, _: RateLimited, idem: IdempotencyKey = None
) -> Response:
    """Raw 재난문자 text: each message is kept with its kind and status, and its dated, located
    visits become exposure events (visible in risk reads at once)."""
    return await _write(
        request, state, key, idem, "alerts/messages", _alerts_run(state), read=_read_alerts
    )
