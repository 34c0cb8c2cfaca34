"""Streaming multipart/form-data: the file part goes straight into a StagingWriter (hashed
and size-checked as it arrives), text fields are kept small, nothing is buffered whole.

Parsing runs in a worker thread in chunks of about a megabyte, so hashing a large upload
never stalls the event loop. A client that stops sending (or trickles a byte now and then)
is dropped (408, staged bytes discarded) once a window of ``PACKYARD_UPLOAD_IDLE_TIMEOUT``
seconds brings fewer than ``PACKYARD_UPLOAD_MIN_RATE`` bytes a second.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import anyio.to_thread
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.types import Message

from packyard.core.errors import InvalidRequest, RequestTimeout
from packyard.services.staging import StagedFile, StagingArea, StagingWriter

MAX_FIELD_BYTES = 8 * 1024 * 1024
MAX_FIELDS = 2_000
MAX_HEADER_BYTES = 16 * 1024
PARSE_BATCH_BYTES = 1024 * 1024

T = TypeVar("T")


@dataclass
class ReceivedForm:
    """Text fields in arrival order (keys may repeat) and the one file, if any."""

    fields: list[tuple[str, str]] = field(default_factory=list)
    file: StagedFile | None = None
    file_field: str | None = None

    def get(self, name: str) -> str | None:
        for key, value in self.fields:
            if key == name:
                return value
        return None


class _FormCollector:
    """Callbacks for python-multipart's parser."""

    def __init__(
        self,
        staging: StagingArea,
        file_fields: frozenset[str],
        text_file_fields: frozenset[str] = frozenset(),
    ) -> None:
        self._staging = staging
        self._file_fields = file_fields
        self._text_file_fields = text_file_fields
        self.form = ReceivedForm()
        self.writer: StagingWriter | None = None
        self.finished = False
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._header_bytes = 0
        self._part_name: str | None = None
        self._part_is_file = False
        self._text: bytearray = bytearray()

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._on_part_begin,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_end": self._on_end,
        }

    def _on_part_begin(self) -> None:
        self._headers = {}
        self._header_bytes = 0
        self._text = bytearray()
        self._part_name = None
        self._part_is_file = False

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._grow_header(end - start)
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._grow_header(end - start)
        self._header_value += data[start:end]

    def _grow_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_HEADER_BYTES:
            raise InvalidRequest("A multipart part has headers larger than 16 KiB")

    def _on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = b""
        self._header_value = b""

    def _on_headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition", b"")
        _kind, options = parse_options_header(disposition)
        name = _decode(options.get(b"name", b""), "field name")
        self._part_name = name
        if name in self._file_fields and not options.get(b"filename"):
            raise InvalidRequest(
                f"The {name!r} part has no file name: send the file with its name "
                '(Content-Disposition: form-data; name="...", filename="pkg-1.0.tar.gz")'
            )
        # A small file part such as twine's gpg_signature is kept like a text field.
        if b"filename" not in options or name in self._text_file_fields:
            if len(self.form.fields) >= MAX_FIELDS:
                raise InvalidRequest(f"Too many form fields (at most {MAX_FIELDS})")
            return
        filename = _decode(options[b"filename"], "file name")
        if name not in self._file_fields:
            expected = " or ".join(sorted(self._file_fields))
            raise InvalidRequest(f"Unexpected file field {name!r}; send the file as {expected!r}")
        if self.writer is not None:
            raise InvalidRequest("Send exactly one file per request; this one carried several")
        # Browsers and curl send a bare name; strip any directory a client included.
        basename = filename.replace("\\", "/").rsplit("/", 1)[-1]
        self.writer = self._staging.open(basename)
        self.form.file_field = name
        self._part_is_file = True

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part_is_file:
            assert self.writer is not None
            self.writer.write(data[start:end])
            return
        self._text += data[start:end]
        if len(self._text) > MAX_FIELD_BYTES:
            raise InvalidRequest(f"Form field {self._part_name!r} is larger than 8 MiB")

    def _on_part_end(self) -> None:
        if self._part_is_file:
            assert self.writer is not None
            self.form.file = self.writer.finish()
        elif self._part_name is not None:
            self.form.fields.append((self._part_name, _decode(bytes(self._text), "form field")))

    def _on_end(self) -> None:
        self.finished = True


def _decode(value: bytes, what: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest(f"A {what} is not valid UTF-8") from None


def _boundary(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "")
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise InvalidRequest(
            'Send the file as multipart/form-data (for example curl -F "file=@dist.whl")'
        )
    return options[b"boundary"]


async def receive_form_then(
    request: Request,
    staging: StagingArea,
    file_fields: frozenset[str],
    then: Callable[[ReceivedForm], T],
    text_file_fields: frozenset[str] = frozenset(),
) -> T:
    """Read a multipart body, staging its file, and answer ``then(form)``; on any failure
    before ``then`` is called nothing staged is left. File parts named in
    ``text_file_fields`` are kept as (size-limited) text fields.

    ``then`` runs in the worker thread that parses the body's last bytes: the whole body of
    a typical upload (a few KiB) is parsed and the form used in one trip to a worker thread
    instead of two. ``then`` owns the staged file once it is called: what it raises is not
    caught here.
    """
    collector = _FormCollector(staging, file_fields, text_file_fields)
    parser = MultipartParser(_boundary(request), collector.callbacks())  # type: ignore[arg-type]
    pending = bytearray()
    try:
        async for chunk in _paced_chunks(request):
            pending += chunk
            if len(pending) >= PARSE_BATCH_BYTES:
                batch, pending = bytes(pending), bytearray()
                await anyio.to_thread.run_sync(_parsed, parser, collector, batch)
    except BaseException:
        _discard(collector)
        raise

    def finish_then() -> T:
        _parsed(parser, collector, bytes(pending), final=True)
        return then(collector.form)

    return await anyio.to_thread.run_sync(finish_then)


def _parsed(
    parser: MultipartParser, collector: _FormCollector, data: bytes, *, final: bool = False
) -> None:
    """Feed ``data`` to the parser (and end the body when ``final``); on any failure the
    staged file is discarded, and a malformed body is an InvalidRequest."""
    try:
        if data:
            parser.write(data)
        if final:
            parser.finalize()
            if not collector.finished:
                raise InvalidRequest(
                    "The request body ended before the multipart form was complete"
                )
    except FormParserError as error:
        _discard(collector)
        raise InvalidRequest(f"Malformed multipart body: {error}") from None
    except BaseException:
        _discard(collector)
        raise


async def _paced_chunks(request: Request) -> AsyncIterator[bytes]:
    """The body's chunks; raises RequestTimeout when a window of ``upload_idle_timeout``
    seconds passes with fewer than ``upload_min_rate`` bytes a second arriving in it, so a
    stalled client and one trickling a byte a second are both dropped."""
    settings = request.app.state.services.settings
    window: float = settings.upload_idle_timeout
    needed = int(window * settings.upload_min_rate)
    window_end = anyio.current_time() + window
    received = 0
    while True:
        message: Message | None = None
        with anyio.move_on_after(max(window_end - anyio.current_time(), 0)):
            message = await request.receive()
        if message is not None:
            if message["type"] == "http.disconnect":
                raise InvalidRequest("The client went away before the upload was complete")
            body: bytes = message.get("body", b"")
            received += len(body)
            if body:
                yield body
            if not message.get("more_body", False):
                return
        if anyio.current_time() >= window_end:
            if received < needed:
                raise RequestTimeout(
                    f"The upload is too slow: under {settings.upload_min_rate} bytes a second "
                    f"for {window:g} seconds; send the file again"
                )
            window_end, received = anyio.current_time() + window, 0


def _discard(collector: _FormCollector) -> None:
    if collector.writer is not None:
        collector.writer.discard()
