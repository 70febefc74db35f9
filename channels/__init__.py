"""Rasa input channels of Mailhilfe."""
