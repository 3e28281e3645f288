"""Redacted export of training examples as chat-format JSONL or CSV, split by time, recorded.

Rows stream from the database (`values_list().iterator()`) in chunks; a small pool of forked
workers redacts and formats them while this process reads, writes in order and hashes, and
a bounded number of chunks in flight keeps memory flat however many examples there are.
Rows are ordered by the ticket's creation time and the latest fraction goes to validation:
a model is never trained on tickets that came after the ones it is evaluated on.
"""

import csv
import hashlib
import io
import json
import math
import os
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import islice
from json.encoder import encode_basestring_ascii
from multiprocessing import current_process, get_context
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.db import connections
from django.db.models import CharField, QuerySet, TextField
from django.db.models.functions import Cast

from assistant.models import ModelVersion
from jobs.models import JobStatus

from ..pipeline.datasets import register_dataset
from ..pipeline.models import DatasetSource
from .models import DataExport, ReviewState, TrainingExample
from .redaction import RedactionReport, redact

FORMATS = ("jsonl", "csv")
STATES = (*ReviewState.values, "all")
# Rows fetched per database round trip: big enough to amortise it, small enough that a
# chunk of long conversations stays a few megabytes.
CHUNK_SIZE = 2000
# Below this many rows an export stays in one process: forking and feeding a pool costs
# more than the second core saves (a 5,000-row export takes about a third of a second).
POOL_THRESHOLD = 5000
# The C function json.dumps quotes strings with (ASCII escapes): lines built from it read
# back exactly like json.dumps output.
_quote = encode_basestring_ascii
_json = json.JSONEncoder(check_circular=False).encode


class _Row(NamedTuple):
    """One example as the export query returns it (tuples: dicts per row cost a tenth)."""

    pk: int
    ticket_id: int
    question_message_id: int | None
    draft_message_id: int | None
    answer_message_id: int | None
    model_version__name: str | None
    model_version__system_prompt: str | None
    confidence: float | None
    agent_id: int | None
    reviewer_id: int | None
    reason: str
    source: str
    review_state: str
    question: str
    draft: str
    correction: str
    # JSON and times travel as database text: decoding 100,000s of datetimes into aware
    # objects and back into ISO strings cost a third of the export's time.
    context_json: str
    ticket_at: str
    question_at: str | None
    answered_at: str | None
    created_at_text: str
    reviewed_at_text: str | None


_TICKET_FIELD = _Row._fields.index("ticket_id")

_AS_TEXT = {
    "context_json": ("context", TextField),
    "ticket_at": ("ticket__created_at", CharField),
    "question_at": ("question_message__created_at", CharField),
    "answered_at": ("answer_message__created_at", CharField),
    "created_at_text": ("created_at", CharField),
    "reviewed_at_text": ("reviewed_at", CharField),
}


class _Clean(NamedTuple):
    """The redacted texts of one example."""

    system: str
    context: list[dict[str, str]]
    question: str
    draft: str
    correction: str


class _Provenance(NamedTuple):
    """One provenance field: its name in both formats, the `_Row` field it comes from, and
    what it holds ("id", "text", "number" or "time": how it is written)."""

    name: str
    source: str
    kind: str


# The one list of provenance fields, in the order both formats write them: the JSONL
# "provenance" object and the first CSV columns are built from it.
PROVENANCE = (
    _Provenance("example_id", "pk", "id"),
    _Provenance("ticket_id", "ticket_id", "id"),
    _Provenance("question_message_id", "question_message_id", "id"),
    _Provenance("draft_message_id", "draft_message_id", "id"),
    _Provenance("answer_message_id", "answer_message_id", "id"),
    _Provenance("model_version", "model_version__name", "text"),
    _Provenance("confidence", "confidence", "number"),
    _Provenance("agent_id", "agent_id", "id"),
    _Provenance("reviewer_id", "reviewer_id", "id"),
    _Provenance("reason", "reason", "text"),
    _Provenance("source", "source", "text"),
    _Provenance("review_state", "review_state", "text"),
    _Provenance("ticket_created_at", "ticket_at", "time"),
    _Provenance("question_at", "question_at", "time"),
    _Provenance("answered_at", "answered_at", "time"),
    _Provenance("example_created_at", "created_at_text", "time"),
    _Provenance("reviewed_at", "reviewed_at_text", "time"),
)
# The redacted texts after the provenance, in CSV (JSONL puts them in "messages" and "draft").
TEXT_COLUMNS = ("system", "context", "question", "draft", "correction")
CSV_COLUMNS = (*(field.name for field in PROVENANCE), *TEXT_COLUMNS)


@dataclass
class ExportFilters:
    since: datetime | None = None
    until: datetime | None = None
    version: str | None = None
    reason: str | None = None
    state: str = ReviewState.APPROVED
    example_ids: list[int] | None = None

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, got {self.state!r}")

    def apply(self, examples: QuerySet[TrainingExample]) -> QuerySet[TrainingExample]:
        if self.state != "all":
            examples = examples.filter(review_state=self.state)
        if self.since is not None:
            examples = examples.filter(created_at__gte=self.since)
        if self.until is not None:
            examples = examples.filter(created_at__lt=self.until)
        if self.version:
            examples = examples.filter(model_version__name=self.version)
        if self.reason:
            examples = examples.filter(reason=self.reason)
        if self.example_ids is not None:
            examples = examples.filter(pk__in=self.example_ids)
        return examples

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ExportFilters":
        """The filters as_json stored on an export row (extra keys, e.g. the validation
        fraction, are the export's own)."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        for name in ("since", "until"):
            if known.get(name):
                known[name] = datetime.fromisoformat(known[name])
        return cls(**known)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("since", "until"):
            if data[name] is not None:
                data[name] = data[name].isoformat()
        return data


@dataclass
class _SplitFile:
    split: str
    path: Path
    rows: int = 0
    sha256: str = ""


@dataclass
class _Run:
    """What one export accumulates while it streams."""

    report: RedactionReport = field(default_factory=RedactionReport)
    ticket_ids: set[int] = field(default_factory=set)
    default_system: str = ""


def default_workers() -> int:
    """One worker per core, at most two: the reader and writer in this process keep up
    with about two."""
    return min(2, os.cpu_count() or 1)


def validation_path_for(out: Path) -> Path:
    """Where the validation rows of an export to `out` go: beside it, `.validation` added."""
    return out.with_name(f"{out.stem}.validation{out.suffix}")


def export_examples(
    out: Path,
    *,
    fmt: str = "jsonl",
    filters: ExportFilters | None = None,
    validation_fraction: float = 0.0,
    user: User | None = None,
    chunk_size: int = CHUNK_SIZE,
    workers: int | None = None,
    pool_threshold: int = POOL_THRESHOLD,
) -> DataExport:
    """Write the redacted examples that pass `filters` to `out` (and its validation file),
    here and now (the command line, retraining on its worker).

    Returns the DataExport row that records who exported what, the files' hashes and what
    was redacted. `workers` processes redact and format (default `default_workers()`; 1
    keeps it all in this process, as does an export of fewer than `pool_threshold` rows).
    """
    fields = write_export(
        out,
        fmt=fmt,
        filters=filters,
        validation_fraction=validation_fraction,
        chunk_size=chunk_size,
        workers=workers,
        pool_threshold=pool_threshold,
    )
    register_export_datasets(fields, user)
    return DataExport.objects.create(
        status=JobStatus.SUCCEEDED, progress=1.0, started_by=user, **fields
    )


def register_export_datasets(fields: dict[str, Any], user: User | None) -> None:
    """Each JSONL file of an export becomes a dataset people can train or evaluate on."""
    if fields["format"] != "jsonl":
        return
    for file in fields["redaction_report"]["files"]:
        if file["rows"]:
            register_dataset(
                file["path"],
                split=file["split"],
                source=DatasetSource.EXPORT,
                ticket_ids=fields["ticket_ids"],
                user=user,
            )


def write_export(
    out: Path,
    *,
    fmt: str = "jsonl",
    filters: ExportFilters | None = None,
    validation_fraction: float = 0.0,
    chunk_size: int = CHUNK_SIZE,
    workers: int | None = None,
    pool_threshold: int = POOL_THRESHOLD,
) -> dict[str, Any]:
    """Write the files; return the fields of their DataExport row."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError("validation fraction must be at least 0 and below 1")
    filters = filters or ExportFilters()
    examples = filters.apply(TrainingExample.objects.all())
    total = examples.count()
    train_rows = total - _validation_rows(total, validation_fraction)

    run = _Run(default_system=_default_system_prompt())
    out.parent.mkdir(parents=True, exist_ok=True)
    files = [_SplitFile("train", out)]
    if validation_fraction > 0:
        files.append(_SplitFile("validation", validation_path_for(out)))
    if workers is None:
        workers = default_workers()
    if total < pool_threshold or current_process().daemon:
        workers = 1  # a pool's start-up costs more than it saves; daemons may not fork
    with ExitStack() as stack:
        handles = [stack.enter_context(_HashedFile(f.path)) for f in files]
        for handle in handles:
            _write_header(fmt, handle)
        # The pool is forked before the query runs, so no open cursor crosses the fork.
        pool = stack.enter_context(_Workers(workers)) if workers > 1 else None
        rows = _chunks(_ordered_rows(examples, chunk_size), chunk_size)
        segments = _segments(rows, files, train_rows, run)
        for index, count, text, counts in _formatted(segments, fmt, run.default_system, pool):
            handles[index].write(text)
            files[index].rows += count
            run.report.counts.update(counts)
    for split_file, handle in zip(files, handles, strict=True):
        split_file.sha256 = handle.digest.hexdigest()

    return dict(
        filters={**filters.as_json(), "validation_fraction": validation_fraction},
        format=fmt,
        path=str(out),
        row_count=sum(f.rows for f in files),
        sha256=files[0].sha256,
        redaction_report={
            "counts": run.report.as_dict(),
            "total": run.report.total,
            "files": [
                {"split": f.split, "path": str(f.path), "rows": f.rows, "sha256": f.sha256}
                for f in files
            ],
        },
        ticket_ids=sorted(run.ticket_ids),
    )


def _validation_rows(total: int, fraction: float) -> int:
    if fraction <= 0 or total < 2:
        return 0
    return min(total - 1, max(1, math.floor(total * fraction + 0.5)))


def _default_system_prompt() -> str:
    version = ModelVersion.default()
    return version.system_prompt if version else ""


def _ordered_rows(examples: QuerySet[TrainingExample], chunk_size: int) -> Iterator[tuple]:
    """The rows as plain tuples: they are pickled to the workers, where they become `_Row`s."""
    as_text = {name: Cast(source, kind()) for name, (source, kind) in _AS_TEXT.items()}
    return (
        examples.order_by("ticket__created_at", "ticket_id", "created_at", "pk")
        .annotate(**as_text)
        .values_list(*_Row._fields)
        .iterator(chunk_size=chunk_size)
    )


def _chunks(rows: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _segments(
    chunks: Iterator[list[tuple]],
    files: list[_SplitFile],
    train_rows: int,
    run: _Run,
) -> Iterator[tuple[int, list[tuple]]]:
    """(file index, rows) pieces of each chunk, the split between train and validation decided.

    Runs in the main process: the split needs the rows in order, which the workers do not see.
    """
    index = 0  # which file rows go to now
    written = 0
    last_ticket = None
    ticket = _TICKET_FIELD  # rows are plain tuples in this process
    for chunk in chunks:
        cut = 0
        if index == 0 and len(files) > 1 and written + len(chunk) > train_rows:
            # Move to validation at a ticket boundary, so no ticket straddles the two files.
            for at in range(max(0, train_rows - written), len(chunk)):
                previous = chunk[at - 1][ticket] if at else last_ticket
                if chunk[at][ticket] != previous:
                    cut = at
                    break
            else:
                cut = len(chunk)
            if cut:
                yield 0, chunk[:cut]
            if cut < len(chunk):
                index = 1
                yield 1, chunk[cut:]
        else:
            yield index, chunk
        run.ticket_ids.update(row[ticket] for row in chunk)
        written += len(chunk)
        last_ticket = chunk[-1][ticket]


def _formatted(
    segments: Iterator[tuple[int, list[tuple]]],
    fmt: str,
    default_system: str,
    workers: "_Workers | None",
) -> Iterator[tuple[int, int, bytes, dict[str, int]]]:
    """(file index, rows, file bytes, redaction counts) of each segment, in order.

    With workers, redaction and formatting (most of the export's CPU) run in them while
    this process reads the database, writes and hashes.
    """
    tasks = ((index, (rows, fmt, default_system)) for index, rows in segments)
    if workers is None:
        for index, task in tasks:
            yield index, len(task[0]), *_format_segment(*task)
        return
    # Segment k goes to worker k mod n and its result is read back in the same turn, so
    # order holds; each worker has one segment at a time, so memory stays flat, and it is
    # always waiting to read when it is sent one (a worker blocked writing a result while
    # this process blocked writing it a task would be a deadlock).
    pending: deque[tuple[int, int, Connection]] = deque()
    for turn, (index, task) in enumerate(tasks):
        worker = workers.pipes[turn % len(workers.pipes)]
        if len(pending) == len(workers.pipes):
            yield _result(*pending.popleft())
        worker.send(task)
        pending.append((index, len(task[0]), worker))
    while pending:
        yield _result(*pending.popleft())


def _result(index: int, rows: int, worker: Connection) -> tuple[int, int, bytes, dict[str, int]]:
    done, result = worker.recv()
    if not done:
        raise RuntimeError(f"export worker failed:\n{result}")
    return index, rows, *result


class _Workers:
    """Worker processes forked from this one, before the export's query opens a cursor.

    Fork, not spawn: a spawned worker must set Django up again (a CPU-second each, a
    fifth of a 100,000-row export). Fork is safe with the database connection: the
    connections are closed first unless a transaction holds them, a worker runs only
    `_format_segment` (no Django, no database), and a forked process ends with `os._exit`,
    so it never closes or writes to a socket it inherited. Plain pipes rather than a
    multiprocessing.Pool: the pool's three feeder threads fight this one for the GIL, and
    that cost a fifth more CPU.
    """

    def __init__(self, count: int) -> None:
        if not any(connections[alias].in_atomic_block for alias in connections):
            connections.close_all()  # reopened on the next query, in this process only
        context = get_context("fork")
        self.pipes: list[Connection] = []
        self.processes = []
        for _ in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(theirs,), daemon=True)
            process.start()
            theirs.close()
            self.pipes.append(ours)
            self.processes.append(process)

    def __enter__(self) -> "_Workers":
        return self

    def __exit__(self, error_type: type | None, *exc_info: object) -> None:
        for pipe, process in zip(self.pipes, self.processes, strict=True):
            if error_type is None:
                pipe.send(None)  # done: the worker returns and exits
                process.join()
            else:
                process.terminate()
                process.join()
            pipe.close()


def _serve(tasks: Connection) -> None:
    """A worker's loop: format each segment it is sent, until it is sent None."""
    while (task := tasks.recv()) is not None:
        result: tuple[bool, object]
        try:
            result = (True, _format_segment(*task))
        except Exception:  # the export re-raises it in the main process
            result = (False, traceback.format_exc())
        tasks.send(result)


def _format_segment(
    rows: list[tuple], fmt: str, default_system: str
) -> tuple[bytes, dict[str, int]]:
    """The file bytes of `rows` and what was redacted in it; pure Python, run in a worker.

    Bytes, not text: pickling a str encodes it to UTF-8 anyway, and this way the process
    that writes and hashes does not encode it again.
    """
    report = RedactionReport()
    examples = [_Row._make(row) for row in rows]
    cleaned = [_redacted(row, default_system, report) for row in examples]
    if fmt == "jsonl":
        text = "".join(map(_jsonl_line, examples, cleaned))
    else:
        text = _csv_lines(examples, cleaned)
    return text.encode(), dict(report.counts)


def _redacted(row: _Row, default_system: str, report: RedactionReport) -> _Clean:
    context = json.loads(row.context_json) if row.context_json != "[]" else []
    return _Clean(
        system=row.model_version__system_prompt or default_system,
        context=[
            {"role": turn["role"], "content": redact(turn["content"], report)} for turn in context
        ],
        question=redact(row.question, report),
        draft=redact(row.draft, report),
        correction=redact(row.correction, report),
    )


def _iso(stored: str | None) -> str | None:
    """ISO 8601 from a database's text for a UTC time ("2026-01-05 09:00:00[.ffffff][+00]")."""
    if not stored:
        return None
    if stored[-3] in "+-" or stored[-6] in "+-":
        return stored.replace(" ", "T", 1)
    return stored.replace(" ", "T", 1) + "+00:00"  # SQLite keeps UTC times without an offset


def _json_id(value: int | None) -> str:
    return "null" if value is None else str(value)


def _json_text(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def _json_number(value: float | None) -> str:
    if value is None:
        return "null"
    return repr(value) if math.isfinite(value) else _json(value)


def _json_time(stored: str | None) -> str:
    return _json_text(_iso(stored))


# How `_provenance` reads each kind of field (no function: as stored) and which function
# `_provenance_json` writes it with.
_READ = {"id": "", "text": "", "number": "", "time": "_iso"}
_WRITE = {"id": "_json_id", "text": "_json_text", "number": "_json_number", "time": "_json_time"}


def _row_function(name: str, expression: str) -> Callable[[_Row], Any]:
    """A function of one row returning `expression`, made from PROVENANCE the way
    namedtuple makes its methods: written out as one expression it formats a row in about
    half the time a loop over the fields takes, and the export's formatting is most of its
    CPU time."""
    namespace: dict[str, Any] = {}
    exec(f"def {name}(row):\n    return {expression}\n", globals(), namespace)
    return namespace[name]


assert all(f.name.isidentifier() and f.source in _Row._fields for f in PROVENANCE)
_provenance = _row_function(
    "_provenance",
    "{" + ", ".join(f"{_quote(f.name)}: {_READ[f.kind]}(row.{f.source})" for f in PROVENANCE) + "}",
)
_provenance_json = _row_function(
    "_provenance_json",
    "f'{{"
    + ", ".join(f"{_quote(f.name)}: {{{_WRITE[f.kind]}(row.{f.source})}}" for f in PROVENANCE)
    + "}}'",
)


class _HashedFile:
    """A split file written a segment at a time as UTF-8 and hashed as it goes: no second read."""

    def __init__(self, path: Path) -> None:
        self.handle = path.open("wb")
        self.digest = hashlib.sha256()

    def write(self, text: str | bytes) -> None:
        block = text.encode() if isinstance(text, str) else text
        self.digest.update(block)
        self.handle.write(block)

    def close(self) -> None:
        self.handle.close()

    def __enter__(self) -> "_HashedFile":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _jsonl_line(row: _Row, clean: _Clean) -> str:
    """One chat conversation per line: what `datasets.load_dataset("json")` and TRL read.

    The line is put together from `_quote`d strings: json.dumps of the nested dicts cost
    three times as much, and gives the same characters.
    """
    system = clean.system
    messages = f'{{"role": "system", "content": {_quote(system)}}}, ' if system else ""
    for turn in clean.context:
        messages += f'{{"role": {_json(turn["role"])}, "content": {_quote(turn["content"])}}}, '
    return (
        f'{{"messages": [{messages}{{"role": "user", "content": {_quote(clean.question)}}}, '
        f'{{"role": "assistant", "content": {_quote(clean.correction)}}}], '
        f'"draft": {_quote(clean.draft)}, "provenance": {_provenance_json(row)}}}\n'
    )


def _csv_lines(rows: list[_Row], cleaned: list[_Clean]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row, clean in zip(rows, cleaned, strict=True):
        texts = (
            clean.system,
            json.dumps(clean.context, ensure_ascii=False),
            clean.question,
            clean.draft,
            clean.correction,
        )
        cells = [*_provenance(row).values(), *texts]
        writer.writerow(["" if cell is None else cell for cell in cells])
    return buffer.getvalue()


def _write_header(fmt: str, file: _HashedFile) -> None:
    if fmt == "csv":
        csv.writer(file).writerow(CSV_COLUMNS)
