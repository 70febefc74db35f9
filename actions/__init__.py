"""Custom actions of Mailhilfe (rasa-sdk). Thin: tracker -> ``bot.dialogue`` -> dispatcher."""
