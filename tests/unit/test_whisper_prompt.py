"""Whisper's prompt: the previous-text tokens, the guards on a prompted decode, the prompt
text from the persona, and (when the model is here) that a prompt stays out of the output."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Sequence
from pathlib import Path

import pytest

from ari_app.media.codecs import ulaw_decode, ulaw_encode
from ari_app.media.resample import resample
from ari_app.mind.persona import load_persona
from ari_app.stt import whisper as whisper_module
from ari_app.stt.prompt import persona_words, recogniser_prompt
from ari_app.stt.whisper import WhisperOptions, WhisperStt
from ari_app.stt.whisper_window import (
    MAX_PROMPT_TOKENS,
    WindowedResult,
    decoder_prompt,
    drop_repeated_sentences,
    echoes_prompt,
    prompt_tokens,
    prompt_words,
    repeats_itself,
)

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "whisper-base"
SOT = [50258, 50263, 50359]  # <|startoftranscript|><|ru|><|transcribe|>
SOT_PREV = 50361


def fake_encode(text: str) -> list[int]:
    """One token per character: ' ab' -> [32, 97, 98]."""
    return [ord(c) for c in text]


# --- the prompt's tokens ---------------------------------------------------------------------


def test_prompt_tokens_have_one_leading_space_and_collapsed_whitespace() -> None:
    assert prompt_tokens(fake_encode, "  Да?\n Нет ") == fake_encode(" Да? Нет")


@pytest.mark.parametrize("prompt", [None, "", "   \n"])
def test_no_text_gives_no_tokens(prompt: str | None) -> None:
    assert prompt_tokens(fake_encode, prompt) == []


def test_a_long_prompt_keeps_its_end_in_whole_words() -> None:
    words = [f"w{i:02d}" for i in range(40)]  # " wNN" is 4 tokens each: 160 in all
    tokens = prompt_tokens(fake_encode, " ".join(words), limit=30)
    assert len(tokens) <= 30
    text = "".join(chr(t) for t in tokens)
    assert text.startswith(" w")  # cut at a word, not inside one
    assert text.endswith("w39")  # the end (the question) is what stays
    assert text == " " + " ".join(words[-len(text.split()) :])


def test_one_word_longer_than_the_limit_keeps_its_last_tokens() -> None:
    assert prompt_tokens(fake_encode, "x" * 50, limit=10) == fake_encode("x" * 10)


def test_the_default_limit_is_about_a_hundred_tokens() -> None:
    assert prompt_tokens(fake_encode, "слово " * 200) != []
    assert len(prompt_tokens(fake_encode, "слово " * 200)) <= MAX_PROMPT_TOKENS == 100


def test_decoder_prompt_puts_previous_text_before_the_start() -> None:
    assert decoder_prompt(SOT, [11, 12], SOT_PREV) == [SOT_PREV, 11, 12, *SOT]
    assert decoder_prompt(SOT) == SOT
    assert decoder_prompt(SOT, [], SOT_PREV) == SOT
    with pytest.raises(ValueError):
        decoder_prompt(SOT, [11])


# --- the guards ------------------------------------------------------------------------------

GREETING = "Здравствуйте! Компания «Ромашка», секретарь Анна. Чем могу помочь?"


@pytest.mark.parametrize(
    "text",
    [
        "Здравствуйте! Компания «Ромашка», секретарь Анна. Чем могу помочь?",
        "Компания Ромашка, секретарь Анна.",
        "чем могу помочь",
        "СЕКРЕТАРЬ АННА, ЧЕМ",
    ],
)
def test_a_transcript_that_only_repeats_the_prompt_is_an_echo(text: str) -> None:
    assert echoes_prompt(text, GREETING)


@pytest.mark.parametrize(
    "text",
    [
        "Здравствуйте!",  # callers greet back: a short match is speech
        "Здравствуйте, Ромашка?",
        "Анна, здравствуйте, мне нужна доставка.",
        "Чем могу помочь вам я",  # more than the prompt says
        "",
    ],
)
def test_what_a_caller_says_back_is_not_an_echo(text: str) -> None:
    assert not echoes_prompt(text, GREETING)


def test_no_prompt_no_echo() -> None:
    assert not echoes_prompt("Чем могу помочь?", None)
    assert not echoes_prompt("Чем могу помочь?", "")


def test_echo_compares_words_with_yo_as_ye() -> None:
    assert echoes_prompt("Чем ещё могу помочь", "Чем еще могу помочь?")
    assert prompt_words("Ещё, 5 раз!") == ["еще", "5", "раз"]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Нет. Нет.", "Нет."),
        ("Goodbye! Goodbye! Goodbye", "Goodbye!"),
        ("Hello! Change to which folder? Hello! Change to which folder?",
         "Hello! Change to which folder?"),
        ("Здравствуйте, Миш! Здравствуйте!", "Здравствуйте, Миш!"),  # the start said again
    ],
)  # fmt: skip
def test_a_sentence_said_again_is_cut(text: str, kept: str) -> None:
    assert drop_repeated_sentences(text) == (kept, True)


@pytest.mark.parametrize(
    "text",
    [
        "Нет, спасибо. До свидания.",
        "Нет. Нет, спасибо.",  # says more than the first time
        "8 916. 45. 45.",  # a number may have the same group twice
        "Да, верно.",
        "",
    ],
)
def test_distinct_sentences_and_numbers_are_kept(text: str) -> None:
    assert drop_repeated_sentences(text) == (text, False)


@pytest.mark.parametrize(
    "text", ["2, 1, 2, 5, 5, 5, 0, 1, 4, 7.", "8 9 0 3 5 5 5 0 1 4 2", "8 800 5 5 5 5 5 5 5"]
)
def test_repeated_digits_of_a_phone_number_are_not_a_loop(text: str) -> None:
    assert not repeats_itself(text)


def test_a_digit_said_on_and_on_is_a_loop() -> None:
    assert repeats_itself("0 0 0 0 0 0 0 0 0")
    assert repeats_itself("Нет. Нет. Нет.")


# --- the engine's policy, on a fake decoder ---------------------------------------------------


class FakeDecoder:
    """Stands in for `decode_fitted`: one text with the prompt, another without."""

    def __init__(self, prompted: str | None, plain: str = "Нет.") -> None:
        self.prompted = prompted
        self.plain = plain
        self.calls: list[bool] = []  # whether each call had a prompt

    def __call__(self, model: object, audio: object, language: str, margin: int, least: int,
                 previous: Sequence[int] = ()) -> WindowedResult | None:
        self.calls.append(bool(previous))
        text = self.prompted if previous else self.plain
        return None if text is None else WindowedResult(text, 1000, "")


def engine_with(decoder: FakeDecoder, monkeypatch: pytest.MonkeyPatch) -> WhisperStt:
    monkeypatch.setattr(whisper_module, "decode_fitted", decoder)
    stt = WhisperStt(Path("/nonexistent"), WhisperOptions(window="fitted"))
    stt._model = object()  # loaded, as far as transcribe() can tell
    # the plain fitted decode (batched with its short-turn variants) goes to the fake too
    monkeypatch.setattr(stt, "_decode_batch_sync",
                        lambda items: [decoder(None, a, lang, 0, 0) for a, lang in items])
    monkeypatch.setattr(stt, "_prompt_tokens", lambda prompt, language: [7, 8, 9] if prompt else [])
    return stt


def said(stt: WhisperStt, prompt: str | None) -> str:
    try:
        return asyncio.run(stt.transcribe(bytes(32000), "ru", prompt=prompt)).text
    finally:
        stt.close()


@pytest.mark.parametrize(
    ("prompted", "counter"),
    [
        ("Хотите, я запишу сообщение", "prompt_echoes"),  # only the prompt again
        (None, "prompt_rejected"),  # the fitted window's guards refused it
        ("", "prompt_rejected"),  # heard nothing with the prompt
    ],
)
def test_a_prompted_decode_that_fails_is_decoded_without_the_prompt(
    prompted: str | None, counter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoder = FakeDecoder(prompted)
    stt = engine_with(decoder, monkeypatch)
    assert said(stt, "Хотите, я запишу сообщение, и вам перезвонят?") == "Нет."
    assert decoder.calls == [True, False]
    assert getattr(stt, counter) == 1
    assert stt.full_fallbacks == 0  # the plain fitted window was good: no 30 s decode


def test_a_sentence_said_twice_with_the_prompt_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    decoder = FakeDecoder("Да. Да.")
    stt = engine_with(decoder, monkeypatch)
    assert said(stt, "Записать ваше сообщение?") == "Да."
    assert decoder.calls == [True]
    assert stt.prompt_repeats == 1


def test_without_a_prompt_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    decoder = FakeDecoder("never used", plain="Нет. Нет.")
    stt = engine_with(decoder, monkeypatch)
    assert said(stt, None) == "Нет. Нет."  # a repeat is only cut on a prompted decode
    assert decoder.calls == [False]


# --- the prompt text -------------------------------------------------------------------------


def test_recogniser_prompt_lists_the_words_then_the_question() -> None:
    assert recogniser_prompt("Как вас зовут?", ["Ромашка", "Анна", " "]) == (
        "Ромашка, Анна. Как вас зовут?"
    )
    assert recogniser_prompt("  Как вас\nзовут? ") == "Как вас зовут?"
    assert recogniser_prompt(None, ["доставка по Москве"]) == "Доставка по Москве."
    assert recogniser_prompt(None) is None
    assert recogniser_prompt(" ", []) is None


def test_persona_words_name_the_company_people_and_services() -> None:
    persona = load_persona(REPO / "config" / "personas" / "default.yaml")
    words = persona_words(persona, "ru")
    assert words[:2] == [persona.company["ru"], persona.secretary_name["ru"]]
    assert "Иван Петров" in words and "доставка по Москве" in words
    assert len(words) == len(set(words))
    assert "Ivan Petrov" in persona_words(persona, "en")


# --- the real model --------------------------------------------------------------------------


def phone_clip(path: Path) -> bytes:
    """An 8 kHz WAV through u-law and back, at 16 kHz, with a turn's silences."""
    with wave.open(str(path)) as w:
        pcm = w.readframes(w.getnframes())
    pcm = resample(ulaw_decode(ulaw_encode(pcm)), 8000, 16000)
    return bytes(2 * 4800) + pcm + bytes(2 * 9600)


@pytest.mark.skipif(not (MODEL / "model.bin").is_file(), reason="no Whisper model here")
def test_a_prompt_does_not_appear_in_the_transcript() -> None:
    clip = REPO / "var" / "human-speech" / "ru_thank_you.wav"
    if not clip.is_file():
        pytest.skip("the human speech set is not assembled (testkit/human_speech.py)")
    prompt = "Ромашка, Анна, Иван Петров. Хотите, я запишу сообщение, и вам перезвонят?"
    stt = WhisperStt(MODEL, WhisperOptions(window="fitted", threads=1))
    try:
        heard = asyncio.run(stt.transcribe(phone_clip(clip), "ru", prompt=prompt)).text
    finally:
        stt.close()
    said = set(prompt_words(heard))
    assert "спасибо" in said
    assert not said & set(prompt_words(prompt)), heard
    assert not echoes_prompt(heard, prompt)
