"""The secretary's HTTP API (FastAPI): chat, speech synthesis and recognition, a whole turn.

Modules: `settings` (the `api:` config section, free of other app imports), `schemas`
(request and response models), `conversations` (the in-memory conversation store),
`audio` (WAV in and out), `speech` (the engines behind the endpoints), `messages` (taken
messages: stored and sent to the staff), `health`,
`app` (`create_app`) and `serve` (`serve_api`, uvicorn).
"""
