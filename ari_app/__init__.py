"""AI secretary: an ARI application that answers calls on Asterisk."""

__version__ = "0.1.0"
