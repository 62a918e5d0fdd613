"""A zip archive written as a stream of chunks, in memory that does not grow with the number of entries.

Python's zipfile can write to an unseekable stream, but it keeps a ZipInfo per entry until it writes the central
directory at the end (about 1 KB each: 95 MiB of memory for all.zip at 100,000 records). Here each entry is
compressed whole (records are small), so its header carries its sizes and CRC and no data descriptor is needed,
and its central-directory entry goes to a spooled temporary file (memory up to SPOOL_BYTES, then disk), streamed
after the last entry. ZIP64 end records are written when there are more than 65,535 entries (OSV's own all.zip
has more) or the archive passes 4 GiB, as APPNOTE 6.3 describes and Python's zipfile reads.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from collections.abc import Iterable, Iterator

SPOOL_BYTES = 1 << 20
READ_BYTES = 1 << 16
DEFLATED = 8
DOS_DATE_1980 = (1 << 5) | 1  # 1980-01-01, the earliest date zip can hold: a stable archive for stable records
UTF8_NAME = 1 << 11
LIMIT16, LIMIT32 = 0xFFFF, 0xFFFFFFFF
VERSION, VERSION_ZIP64 = 20, 45


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)  # raw deflate, as zip holds it
    return compressor.compress(data) + compressor.flush()


def stream(entries: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
    """The archive of (name, content) entries, one chunk per entry, then the central directory and end records."""
    offset = 0
    count = 0
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as directory:
        for name, content in entries:
            encoded = name.encode("utf-8")
            flags = 0 if encoded.isascii() else UTF8_NAME
            packed = _deflate(content)
            crc = zlib.crc32(content)
            header = struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, VERSION, flags, DEFLATED, 0, DOS_DATE_1980,
                crc, len(packed), len(content), len(encoded), 0,
            )  # fmt: skip
            # Only the offset can pass 4 GiB (a record is at most a few MiB): then a ZIP64 extra field holds it.
            extra = b"" if offset < LIMIT32 else struct.pack("<HHQ", 0x0001, 8, offset)
            entry = struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, VERSION_ZIP64 if extra else VERSION,
                VERSION_ZIP64 if extra else VERSION, flags, DEFLATED, 0, DOS_DATE_1980, crc, len(packed),
                len(content), len(encoded), len(extra), 0, 0, 0, 0, min(offset, LIMIT32),
            )  # fmt: skip
            directory.write(entry + encoded + extra)
            chunk = header + encoded + packed
            offset += len(chunk)
            count += 1
            yield chunk
        directory_size = directory.tell()
        directory.seek(0)
        while block := directory.read(READ_BYTES):
            yield block
    yield _end_records(count, directory_size, offset)


def _end_records(count: int, size: int, start: int) -> bytes:
    end = b""
    if count >= LIMIT16 or size >= LIMIT32 or start >= LIMIT32:
        zip64_end = start + size
        end = struct.pack(
            "<IQHHIIQQQQ", 0x06064B50, 44, VERSION_ZIP64, VERSION_ZIP64, 0, 0, count, count, size, start
        ) + struct.pack("<IIQI", 0x07064B50, 0, zip64_end, 1)
    return end + struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, min(count, LIMIT16), min(count, LIMIT16), min(size, LIMIT32),
        min(start, LIMIT32), 0,
    )  # fmt: skip
