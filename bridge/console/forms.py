"""Reading a console form, urlencoded or multipart, with every size bounded.

Multipart is read part by part (not with `request.post()`, which holds the whole body in
memory under the app's 1 MB cap) so a WAV upload streams to a file, in a thread.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from aiohttp import BodyPartReader, web

MAX_FIELD_BYTES = 16 * 1024
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class FormTooLarge(web.HTTPRequestEntityTooLarge):
    def __init__(self, what: str, limit: int) -> None:
        super().__init__(max_size=limit, actual_size=limit + 1, text=f"{what} is too large")


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    upload: Path | None = None  # the one file field, saved under the upload folder

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)

    async def discard(self) -> None:
        if self.upload is not None:
            await asyncio.to_thread(self.upload.unlink, missing_ok=True)
            self.upload = None


async def read_form(request: web.Request, upload_dir: Path) -> Form:
    if request.content_type != "multipart/form-data":
        posted = await request.post()
        return Form({key: value for key, value in posted.items() if isinstance(value, str)})
    form = Form()
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or not part.name:
                continue
            if part.filename:
                if form.upload is None:
                    form.upload = await _save(part, upload_dir)
            else:
                form.fields[part.name] = await _text(part)
    except BaseException:
        await form.discard()
        raise
    return form


async def _text(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk():
        data += chunk
        if len(data) > MAX_FIELD_BYTES:
            raise FormTooLarge(f"field {part.name!r}", MAX_FIELD_BYTES)
    return data.decode("utf-8", errors="replace")


async def _save(part: BodyPartReader, upload_dir: Path) -> Path | None:
    """The file's bytes under `upload_dir` (None for an empty file field)."""
    await asyncio.to_thread(upload_dir.mkdir, parents=True, exist_ok=True)
    path = upload_dir / f"{secrets.token_hex(12)}.wav"
    sink: BinaryIO = await asyncio.to_thread(path.open, "wb")
    size = 0
    try:
        while chunk := await part.read_chunk():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise FormTooLarge("the WAV file", MAX_UPLOAD_BYTES)
            await asyncio.to_thread(sink.write, chunk)
    except BaseException:
        await asyncio.to_thread(sink.close)
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
    await asyncio.to_thread(sink.close)
    if size == 0:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        return None
    return path
