"""The company's facts in a persona: services with prices, and FAQ answers; and matching a
caller's words against them.

Matching is deliberately simple and tolerant: two words match when they share a long
enough start ("доставка"/"доставляете", "card"/"cards"), which absorbs Russian endings
and most of Whisper's slips; a FAQ entry matches when most of one of its phrasings'
content words are in the question, or when one of its keywords is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ari_app.mind.intents import normalise
from ari_app.mind.texts import TextLists, Texts, pick
from ari_app.mind.words import money_words

FAQ_MIN_SCORE = 0.6  # share of a phrasing's content words the question must contain

_STOPWORDS = frozenset(
    "а в во вы вас ваш ваша ваше ваши у и или ли на не но по с со к ко о об от за до из как "
    "что это ну мне меня я мы нас наш можно есть будет бы же да нет подскажите скажите "
    "пожалуйста здравствуйте алло хотел хотела хочу а также там тут какой какая какие "
    "a an the is are am be do does did you your i me my we our us to of in on at for with "
    "can could would will please tell hello hi there and or it this that what how have has "
    "any some".split()
)


def content_words(text: str) -> list[str]:
    return [w for w in normalise(text).split() if w not in _STOPWORDS]


def words_match(a: str, b: str) -> bool:
    """Same word up to its ending: a common start of 4+ letters leaving at most 3 letters
    of the shorter word; words under 4 letters must be equal."""
    if a == b:
        return True
    if min(len(a), len(b)) < 4:
        return False
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return common >= 4 and common >= min(len(a), len(b)) - 3


def _overlap(query: list[str], phrase: list[str]) -> float:
    if not phrase:
        return 0.0
    hits = sum(1 for p in phrase if any(words_match(q, p) for q in query))
    return hits / len(phrase)


def _any_keyword(query: list[str], keywords: list[str]) -> bool:
    for keyword in keywords:
        kw = content_words(keyword) or normalise(keyword).split()
        if kw and all(any(words_match(q, k) for q in query) for k in kw):
            return True
    return False


class Price(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    amount: int = Field(ge=0, le=999_999)
    currency: Literal["RUB", "USD", "EUR"] = "RUB"
    per: Texts = Field(default_factory=dict)  # "за заказ" / "per order"

    def spoken(self, lang: str) -> str:
        words = money_words(self.amount, self.currency, lang)
        per = self.per.get(lang)
        return f"{words} {per}" if per else words


class Service(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Texts
    keywords: TextLists = Field(default_factory=dict)
    description: Texts = Field(default_factory=dict)
    price: Price | None = None

    def score(self, query: list[str]) -> int:
        """How many of its keywords the query has, plus 2 when it names the service."""
        keywords = [k for texts in self.keywords.values() for k in texts]
        hits = sum(1 for k in keywords if _any_keyword(query, [k]))
        return hits + (2 if _any_keyword(query, list(self.name.values())) else 0)

    def price_sentence(self, lang: str) -> str:
        name = pick(self.name, lang)
        name = name[:1].upper() + name[1:]
        if self.price is None:
            return ""
        verb = "стоит" if lang == "ru" else "costs"
        return f"{name} {verb} {self.price.spoken(lang)}."


class FaqEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    question: TextLists
    answer: Texts
    keywords: TextLists = Field(default_factory=dict)

    def score(self, query: list[str], lang: str) -> float:
        """1.0 for a keyword hit, else the best phrasing's share of matched content words."""
        keywords = [k for code in (lang, *self.keywords) for k in self.keywords.get(code, [])]
        if _any_keyword(query, keywords):
            return 1.0
        phrasings = [q for code in (lang, *self.question) for q in self.question.get(code, [])]
        return max((_overlap(query, content_words(q)) for q in phrasings), default=0.0)


def match_faq(faq: tuple[FaqEntry, ...] | list[FaqEntry], text: str, lang: str
              ) -> FaqEntry | None:
    query = content_words(text)
    if not query:
        return None
    best: tuple[float, FaqEntry] | None = None
    for entry in faq:
        score = entry.score(query, lang)
        if score >= FAQ_MIN_SCORE and (best is None or score > best[0]):
            best = (score, entry)
    return best[1] if best else None


def match_service(services: tuple[Service, ...] | list[Service], text: str, lang: str
                  ) -> Service | None:
    query = content_words(text)
    best: tuple[int, Service] | None = None
    for service in services:
        score = service.score(query)
        if score and (best is None or score > best[0]):
            best = (score, service)
    return best[1] if best else None


def services_sentence(services: tuple[Service, ...] | list[Service], lang: str) -> str:
    names = [pick(s.name, lang) for s in services]
    if not names:
        return ""
    listed = names[0] if len(names) == 1 else (
        ", ".join(names[:-1]) + (" и " if lang == "ru" else " and ") + names[-1]
    )
    return f"Мы предлагаем: {listed}." if lang == "ru" else f"We offer {listed}."


def prices_sentence(services: tuple[Service, ...] | list[Service], lang: str) -> str:
    items = [f"{pick(s.name, lang)} — {s.price.spoken(lang)}" for s in services if s.price]
    if not items:
        return ""
    return ("Наши цены: " if lang == "ru" else "Our prices: ") + "; ".join(items) + "."
