"""Dialogue logic without Rasa: topics, walkthrough state machine, bounce routing, hand-over."""
