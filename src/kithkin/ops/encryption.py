"""The encrypted backup file: AES-256-GCM over fixed-size chunks, streamed both ways.

Layout::

    header   MAGIC (8) | format (1) | salt (16) | chunk size (4, big-endian)
    records  final flag (1) | ciphertext length (4) | ciphertext with its 16-byte tag:
             the manifest (JSON), the payload in chunks, and last the trailer (JSON: the
             payload's SHA-256 and size), the one record marked final

Each file gets its own key, derived with HKDF from the backup key and the file's random salt, so
nonces can simply count: the nonce is the record's index (11 bytes) and its final flag (1 byte),
and the whole header is the associated data of every record. A record moved, dropped, repeated
or taken from another file, a changed header, a missing final record (the file was cut short)
and anything after it all fail authentication.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import struct
from collections.abc import Callable, Iterator
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAGIC = b"KITHKBK\n"
FORMAT = 1
CHUNK_SIZE = 1024 * 1024
MAX_CHUNK_SIZE = 64 * 1024 * 1024
TAG_SIZE = 16
_HEADER = struct.Struct(">8sB16sI")
_RECORD = struct.Struct(">BI")
KEY_SETTING = "KITHKIN_BACKUP_KEY"
NEW_KEY_HINT = (
    'python3 -c "import base64, secrets; '
    'print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"'
)
Manifest = dict[str, Any]
CANNOT_DECRYPT = (
    "This backup cannot be decrypted with the configured key, or it was changed or cut short."
)


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why (no client data)."""


class BackupDamaged(BackupError):
    def __init__(self, message: str = CANNOT_DECRYPT) -> None:
        super().__init__(message)


# --- the key -------------------------------------------------------------------------------


def parse_key(text: str) -> bytes:
    """A backup key is 32 random bytes written in base64 (the URL-safe or the standard alphabet)."""
    cleaned = text.strip()
    padded = cleaned + "=" * (-len(cleaned) % 4)
    for decode in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            key = decode(padded)
        except (binascii.Error, ValueError):
            continue
        if len(key) == 32:
            return key
    raise ImproperlyConfigured(
        f"{KEY_SETTING} must be 32 random bytes written in base64 (44 characters); the value "
        f"set has {len(cleaned)} characters. Make one with: {NEW_KEY_HINT}"
    )


def derive_from_field_key(field_key: str) -> bytes:
    """Outside production, a backup key derived from the first field-encryption key."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"kithkin backup key from field key"
    ).derive(field_key.strip().encode())


def configured_key() -> bytes:
    """The backup key from the settings; outside production, derived if none is set."""
    value: str | None = getattr(settings, "BACKUP_KEY", None)
    if value:
        return parse_key(value)
    if settings.PRODUCTION:
        raise ImproperlyConfigured(
            f"{KEY_SETTING} (or {KEY_SETTING}_FILE) must be set in production to make or restore "
            f"backups. Make one with: {NEW_KEY_HINT} and keep a copy away from the backups."
        )
    return derive_from_field_key(settings.FIELD_ENCRYPTION_KEYS[0])


# --- the stream ----------------------------------------------------------------------------


def _file_cipher(key: bytes, salt: bytes) -> AESGCM:
    file_key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=b"kithkin backup file v1"
    ).derive(key)
    return AESGCM(file_key)


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


class BackupWriter:
    """Writes the header and the manifest to ``stream``, then encrypts a payload written in
    pieces of any size; :meth:`finish` adds the trailer with the payload's SHA-256 and size."""

    def __init__(
        self, stream: IO[bytes], key: bytes, manifest: Manifest, chunk_size: int = CHUNK_SIZE
    ) -> None:
        self._stream = stream
        self._header = _HEADER.pack(MAGIC, FORMAT, os.urandom(16), chunk_size)
        self._cipher = _file_cipher(key, self._header[9:25])
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._index = 0
        self._sha256 = hashlib.sha256()
        self._size = 0
        self._manifest = manifest
        stream.write(self._header)
        self._record(_encode(manifest, chunk_size), final=False)

    def write(self, data: bytes) -> None:
        self._sha256.update(data)
        self._size += len(data)
        self._buffer += data
        while len(self._buffer) >= self._chunk_size:
            self._record(bytes(self._buffer[: self._chunk_size]), final=False)
            del self._buffer[: self._chunk_size]

    def finish(self) -> Manifest:
        """Write the rest of the payload and the trailer; returns the whole manifest."""
        if self._buffer:
            self._record(bytes(self._buffer), final=False)
            self._buffer.clear()
        trailer = {"payload_sha256": self._sha256.hexdigest(), "payload_bytes": self._size}
        self._record(_encode(trailer, self._chunk_size), final=True)
        return {**self._manifest, **trailer}

    def _record(self, plaintext: bytes, *, final: bool) -> None:
        sealed = self._cipher.encrypt(_nonce(self._index, final), plaintext, self._header)
        self._stream.write(_RECORD.pack(int(final), len(sealed)) + sealed)
        self._index += 1


def _encode(document: dict[str, Any], chunk_size: int) -> bytes:
    encoded = json.dumps(document, sort_keys=True).encode()
    if len(encoded) > chunk_size:
        raise BackupError("The backup's manifest is larger than one chunk.")
    return encoded


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise BackupDamaged()
    return data


Sink = Callable[[bytes], object]


def _open(stream: IO[bytes], key: bytes) -> tuple[bytes, int, AESGCM]:
    header = stream.read(_HEADER.size)
    if len(header) < len(MAGIC) or not header.startswith(MAGIC):
        raise BackupError("This file is not a Kithkin backup.")
    if len(header) != _HEADER.size:
        raise BackupDamaged()
    _, version, salt, chunk_size = _HEADER.unpack(header)
    if version != FORMAT:
        raise BackupError(
            f"This backup is in format {version}; this version of Kithkin reads format {FORMAT}."
        )
    if not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise BackupDamaged()
    return header, chunk_size, _file_cipher(key, salt)


def decrypt(stream: IO[bytes], key: bytes, open_sink: Callable[[Manifest], Sink]) -> Manifest:
    """Check and decrypt a whole backup; returns its manifest. The manifest comes first and goes
    to ``open_sink``, which returns where the payload's pieces go. Raises :class:`BackupDamaged`
    at the first sign of a wrong key, a change, or a cut.

    Each piece goes to the sink only once the record after it has been read and authenticated,
    so the last of the payload is never handed over from a file that turns out to be cut short
    (a restore streaming into ``pg_restore`` then never sees a complete-looking archive)."""
    header, chunk_size, cipher = _open(stream, key)

    def records() -> Iterator[tuple[bytes, bool]]:
        index = 0
        while True:
            framing = stream.read(_RECORD.size)
            if len(framing) != _RECORD.size:
                raise BackupDamaged()  # ended before the final record
            final, length = _RECORD.unpack(framing)
            if final not in (0, 1) or not TAG_SIZE <= length <= chunk_size + TAG_SIZE:
                raise BackupDamaged()
            nonce = _nonce(index, bool(final))
            try:
                plaintext = cipher.decrypt(nonce, _read_exactly(stream, length), header)
            except InvalidTag:
                raise BackupDamaged() from None
            yield plaintext, bool(final)
            if final:
                return
            index += 1

    reading = records()
    first, final = next(reading)
    if final:
        raise BackupDamaged()
    manifest: Manifest = json.loads(first)
    sink = open_sink(manifest)
    sha256 = hashlib.sha256()
    size = 0
    held: bytes | None = None
    trailer: Manifest = {}
    for plaintext, final in reading:
        if held is not None:
            sink(held)
        if final:
            trailer = json.loads(plaintext)
            break
        held = plaintext
        sha256.update(plaintext)
        size += len(plaintext)
    if stream.read(1):
        raise BackupDamaged()  # something was added after the final record
    if trailer.get("payload_sha256") != sha256.hexdigest() or trailer.get("payload_bytes") != size:
        raise BackupDamaged()
    return {**manifest, **trailer}
