"""The secretary's mind: language-model providers behind one streaming interface.

`base.py` holds the contract (messages in, events out) and the error type; one adapter per
wire protocol (`openai_compat.py`, `gemini.py`, `anthropic.py`) only translates; `chain.py`
adds the fallback between providers and the filler phrase when the first token is late;
`factory.py` builds the chain from the `llm:` config section.
"""
