"""One call's life: the session that runs it, its media leg, the recorder, its record,
transfer, and the speaker that plays the replies."""
