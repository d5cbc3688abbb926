"""Custom actions for the Rasa action server (rasa-sdk). Nothing runs at import time."""
