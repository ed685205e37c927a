import re
from collections.abc import AsyncIterator

import pytest

from ari_app.tts.chunker import FLUSH, SpeakableChunker, reply_pieces, speakable_pieces
from ari_app.tts.text import split_sentences

REPLY_RU = (
    "Здравствуйте! Мы работаем с понедельника по четверг с девяти до восемнадцати. "
    "В пятницу до семнадцати, т. е. на час меньше. Чем ещё могу помочь?"
)
REPLY_EN = "Hello! We are open from 9 a.m. to 6 p.m. on weekdays. Mr. Smith is out today."


def stream(text: str, tokens: list[str]) -> list[str]:
    chunker = SpeakableChunker()
    pieces = []
    for token in tokens:
        pieces += chunker.push(token)
    return pieces + chunker.flush()


@pytest.mark.parametrize("text", [REPLY_RU, REPLY_EN])
def test_token_streams_give_the_same_sentences_as_the_whole_text(text: str) -> None:
    by_char = stream(text, list(text))
    by_word = stream(text, re.findall(r"\S+\s*", text))
    assert by_char == by_word == split_sentences(text)


def test_a_sentence_is_released_as_soon_as_the_next_one_begins() -> None:
    chunker = SpeakableChunker()
    assert chunker.push("Здравствуйте! ") == []
    assert chunker.push("Мы") == []  # a fragment this short might still be merged
    assert chunker.push(" работаем") == ["Здравствуйте!"]


def test_a_long_sentence_is_spoken_clause_by_clause() -> None:
    text = ("Мы работаем с понедельника по четверг с девяти утра до шести вечера, "
            "а в пятницу только до пяти, потому что готовимся к выходным")
    chunker = SpeakableChunker(clause_chars=60)
    pieces = []
    for word in re.findall(r"\S+\s*", text):
        pieces += chunker.push(word)
    assert pieces and pieces[0].endswith(",")  # released before the sentence ended
    pieces += chunker.flush()
    assert " ".join(pieces).replace("  ", " ") == text


async def test_flush_token_says_what_is_pending_at_once() -> None:
    async def tokens() -> AsyncIterator[str]:
        yield "Одну секунду..."
        yield FLUSH
        yield "Мы открыты"
        yield " до шести."

    pieces = [p async for p in speakable_pieces(tokens())]
    assert pieces == ["Одну секунду...", "Мы открыты до шести."]


def test_a_long_first_sentence_of_a_whole_reply_is_cut_after_its_first_clause() -> None:
    text = ("We are open Monday to Thursday from nine a.m. to six p.m., Friday from nine a.m. "
            "to five p.m., Saturday and Sunday closed. Anything else?")
    pieces = reply_pieces(text)
    assert pieces[0] == "We are open Monday to Thursday from nine a.m. to six p.m.,"
    assert " ".join(pieces) == " ".join(text.split())  # nothing lost, nothing added
    assert pieces[-1] == "Anything else?" and len(pieces) == 3


@pytest.mark.parametrize(
    "text",
    [
        "Здравствуйте! Слушаю вас.",  # short sentences stay whole
        "Hello, " + "a" * 100 + ".",  # a first clause too short to stand alone
        "Мы работаем с понедельника по пятницу с девяти утра до шести вечера без перерыва "
        "на обед.",  # long, but no clause to cut at
    ],
)
def test_other_replies_are_their_sentences(text: str) -> None:
    assert reply_pieces(text) == split_sentences(text)
