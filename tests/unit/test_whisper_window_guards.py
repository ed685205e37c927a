"""The fitted-window guards of `ari_app.stt.whisper_window`, on token lists and texts (no
model: the real decoder is exercised in tests/integration/test_whisper_window.py)."""

from __future__ import annotations

import pytest

from ari_app.stt.whisper_window import (
    FULL_WINDOW,
    compression_ratio,
    cut_loop,
    keep_segments,
    repeats_itself,
    split_segments,
    window_frames,
)

TS = 50364  # Whisper's first timestamp token (<|0.00|>)
EOT = 50257


def ts(seconds: float) -> int:
    return TS + round(seconds / 0.02)


@pytest.mark.parametrize(
    ("content", "margin", "least", "expected"),
    [
        (313, 200, 0, 600),  # 3.1 s + 2 s, up to a whole second
        (313, 200, 1000, 1000),  # the least window wins for a short turn
        (1250, 200, 1000, 1500),
        (2900, 200, 0, FULL_WINDOW),  # never beyond 30 s
        (0, 0, 0, 0),
    ],
)
def test_window_frames(content: int, margin: int, least: int, expected: int) -> None:
    assert window_frames(content, margin, least) == expected


def test_split_segments_by_timestamps() -> None:
    tokens = [ts(0), 1, 2, ts(1.0), ts(1.0), 3, ts(2.5), EOT, 4]
    assert split_segments(tokens, TS, EOT) == [(0.0, [1, 2]), (1.0, [3])]


def test_split_segments_keeps_an_unclosed_tail() -> None:
    # the budget ran out mid segment: its words are still returned
    assert split_segments([ts(0), 1, ts(0.5), 2, 3], TS, EOT) == [(0.0, [1]), (0.5, [2, 3])]


def test_a_segment_starting_where_the_audio_ended_is_dropped() -> None:
    segments = [(0.0, " Да, верно."), (1.0, " Да, верно."), (2.0, " Да, верно.")]
    kept, cut = keep_segments(segments, audio_s=1.05)
    assert (kept, cut) == (["Да, верно."], "after-end")


def test_a_repeated_segment_inside_the_audio_is_dropped() -> None:
    segments = [(0.0, " Нет, не срочно."), (1.4, " нет, не срочно!")]
    kept, cut = keep_segments(segments, audio_s=3.0)
    assert (kept, cut) == (["Нет, не срочно."], "repeat")


def test_distinct_segments_inside_the_audio_are_all_kept() -> None:
    segments = [(0.0, " Здравствуйте!"), (1.0, " Подскажите, какие у вас часы работы?")]
    assert keep_segments(segments, audio_s=5.9) == (
        ["Здравствуйте!", "Подскажите, какие у вас часы работы?"], "")


def test_the_first_segment_is_kept_even_if_its_timestamp_is_late() -> None:
    # a turn cut tight: the only words must not be thrown away
    assert keep_segments([(0.9, " Алло.")], audio_s=1.0) == (["Алло."], "")


@pytest.mark.parametrize(
    "text",
    [
        "No. No. No. No. No. No. No. No",
        "the, the, the, the, the",
        "ДАААААААААААААА",
        "how much is delivery how much is delivery how much is delivery",
    ],
)
def test_looping_texts_are_recognised(text: str) -> None:
    assert repeats_itself(text)


@pytest.mark.parametrize(
    "text",
    [
        "Да, да, конечно.",  # a word twice is speech
        "My number is 555 123 4567.",
        "Мой номер восемь девятьсот шестнадцать сто двадцать три.",
        "",
    ],
)
def test_ordinary_texts_are_not_loops(text: str) -> None:
    assert not repeats_itself(text)


def test_compression_ratio_rises_with_repetition() -> None:
    once = "Подскажите, пожалуйста, какие у вас часы работы?"
    assert compression_ratio(once) < 2.4
    assert compression_ratio(" ".join([once] * 6)) > 2.4
    assert compression_ratio("") == 0.0


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("8-9-1-6-1-1-1-1-1-1-1-1-1-1", "8-9-1-6-1"),  # seen from the 30 s window
        ("Да, конечно. Спасибо. Спасибо. Спасибо. Спасибо.", "Да, конечно. Спасибо"),
        ("Hello! Hello! Hello!", "Hello"),
        ("Ммммммммммммммм", "Мм"),  # a letter held: once
        ("2, 1, 2, 5, 5, 5, 0, 1, 4, 7", "2, 1, 2, 5, 5, 5, 0, 1, 4, 7"),  # a number, no loop
        ("Мы работаем с девяти до шести.", "Мы работаем с девяти до шести."),
    ],
)
def test_cut_loop_keeps_what_came_before_the_loop(text: str, kept: str) -> None:
    assert cut_loop(text) == kept
    assert repeats_itself(text) is (kept != text)
