"""Per-language texts in a persona, and the check that every one has every language.

A caller-facing text is a mapping language -> text (`Texts`), or language -> list of
phrasings (`TextLists`, e.g. FAQ question variants). Fields declared with these types are
found by `missing_languages`, which walks a validated persona and names each gap by its
key path ("staff[1].role.en"), so an error points at the line to fix.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel


class _LanguageTexts:
    """Marker in a field's metadata: the field maps language codes to text."""

    def __repr__(self) -> str:
        return "per-language text"


LANG_TEXTS = _LanguageTexts()

Texts = Annotated[dict[str, str], LANG_TEXTS]
TextLists = Annotated[dict[str, list[str]], LANG_TEXTS]


def pick(texts: dict[str, str], lang: str) -> str:
    """The text in `lang`; a missing language is a bug once the persona is validated."""
    try:
        return texts[lang]
    except KeyError:
        raise ValueError(f"no text in language {lang!r} (has: {', '.join(texts)})") from None


def _check(value: Any, langs: tuple[str, ...], path: str, out: list[str]) -> None:
    if isinstance(value, BaseModel):
        for name, field in type(value).model_fields.items():
            sub = getattr(value, name)
            where = f"{path}.{name}" if path else name
            if any(meta is LANG_TEXTS for meta in field.metadata):
                if sub:  # an empty mapping is an optional text left out
                    _check_texts(sub, langs, where, out)
            else:
                _check(sub, langs, where, out)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(item, langs, f"{path}[{i}]", out)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(item, langs, f"{path}.{key}", out)


def _check_texts(texts: dict[str, Any], langs: tuple[str, ...], path: str, out: list[str]
                 ) -> None:
    for lang in langs:
        if lang not in texts:
            out.append(f"{path}.{lang}: missing (the persona's languages are {', '.join(langs)})")
    for lang, text in texts.items():
        if lang not in langs:
            out.append(f"{path}.{lang}: not one of the persona's languages ({', '.join(langs)})")
        elif isinstance(text, str) and not text.strip():
            out.append(f"{path}.{lang}: must not be empty")
        elif isinstance(text, list) and not any(t.strip() for t in text):
            out.append(f"{path}.{lang}: needs at least one phrasing")


def missing_languages(model: BaseModel, langs: tuple[str, ...]) -> list[str]:
    """Every per-language text in `model` lacking one of `langs`, as "key.path.lang: ..."."""
    out: list[str] = []
    _check(model, langs, "", out)
    return out
