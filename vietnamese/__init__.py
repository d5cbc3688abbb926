"""Vietnamese text handling shared by the Rasa pipeline and our own code."""
