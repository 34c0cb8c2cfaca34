"""Values buffered for a batched write stay readable until their transaction commits: a
download count or a token's last use never dips while a flush is writing, and a failed
flush loses nothing."""

from __future__ import annotations

import operator

import pytest

from packyard.services.write_buffer import WriteBuffer


def test_values_being_written_are_still_read_with_those_noted_meanwhile() -> None:
    buffer: WriteBuffer[str, int] = WriteBuffer(operator.add)
    buffer.note("wheel", 2)
    seen: list[int | None] = []

    def write(batch: dict[str, int]) -> None:
        assert batch == {"wheel": 2}
        seen.append(buffer.get("wheel"))  # swapped out, not yet committed
        buffer.note("wheel", 1)  # a download during the write
        seen.append(buffer.get("wheel"))

    buffer.flush(write)
    assert seen == [2, 3]
    assert buffer.get("wheel") == 1  # the committed 2 are the database's now
    written: list[dict[str, int]] = []
    buffer.flush(written.append)
    assert written == [{"wheel": 1}]
    assert buffer.get("wheel") is None


def test_a_failed_write_keeps_every_value_for_the_next_flush() -> None:
    buffer: WriteBuffer[str, int] = WriteBuffer(operator.add)
    buffer.note("wheel", 2)

    def failing(batch: dict[str, int]) -> None:
        buffer.note("wheel", 5)
        raise ConnectionError("database gone")

    with pytest.raises(ConnectionError):
        buffer.flush(failing)
    assert buffer.get("wheel") == 7
    written: list[dict[str, int]] = []
    buffer.flush(written.append)
    assert written == [{"wheel": 7}]


def test_the_latest_time_wins_when_merging_with_max() -> None:
    buffer: WriteBuffer[str, int] = WriteBuffer(max)
    buffer.note("token", 10)
    buffer.note("token", 4)

    def write(batch: dict[str, int]) -> None:
        buffer.note("token", 8)
        assert buffer.get("token") == 10

    buffer.flush(write)
    assert buffer.get("token") == 8
