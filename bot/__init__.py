"""Mailhilfe: the bot's framework-independent Python code (knowledge base, bounce analysis, replies)."""
