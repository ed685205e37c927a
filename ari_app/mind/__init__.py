"""The secretary's mind without an LLM: words for numbers and dates, the business calendar,
intent matching, the staff directory, the take-a-message form and phone-number parsing.

Every module here is pure (no I/O, no clock of its own): the dialogue passes the time in.
mind.py is the interface the call session talks to (`Mind`, `Answer`, `Reply`), which the
rules (dialogue.py) and the rules with a language model (llm_dialogue.py) implement;
text_turn.py runs one turn of it in text (the API's chat, `secretary chat`).
"""
