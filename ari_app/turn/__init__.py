"""Turn-taking: when the caller has finished, and what they said."""
