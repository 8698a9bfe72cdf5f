"""CRC32C checksums of fragments and chunks, as 8 lowercase hex digits, without copying.

``google_crc32c.value`` is hardware accelerated but only accepts objects that need no
buffer release (``bytes``), not memoryviews or NumPy arrays. Fragments are views into
a chunk or into a shared parity allocation, and copying them to ``bytes`` just to
checksum them would cost as much as the checksum. So any other contiguous buffer is
passed as a ctypes array laid over the same memory (ctypes arrays satisfy the
``y#`` argument parser); the buffer's owner is kept alive by a local NumPy view for
the duration of the call.
"""

from __future__ import annotations

import ctypes
import re

import google_crc32c
import numpy as np

_value = google_crc32c.value


def crc32c(data) -> int:
    """CRC32C of any C-contiguous bytes-like object, zero-copy."""
    if type(data) is bytes:
        return _value(data)
    if type(data) is memoryview and type(data.obj) is bytes and data.nbytes == len(data.obj):
        return _value(data.obj)  # a view of a whole bytes object (a fragment read from storage)
    view = np.frombuffer(data, dtype=np.uint8)
    if view.size == 0:
        return _value(b"")
    return crc32c_at(view.__array_interface__["data"][0], view.size)


def crc32c_at(address: int, size: int) -> int:
    """CRC32C of ``size`` bytes at ``address``; the caller keeps the memory alive."""
    if size == 0:
        return _value(b"")
    return _value((ctypes.c_char * size).from_address(address))


def crc32c_hex(data) -> str:
    """CRC32C as the 8 lowercase hex digits stored with fragments."""
    return f"{crc32c(data):08x}"


def address_of(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


_is_hex = re.compile("[0-9a-f]{8}").fullmatch


def is_hex_checksum(text) -> bool:
    return type(text) is str and _is_hex(text) is not None
