"""The action classifier shipped with Agora, trained on generated utterances by `python -m market.assistant.reading.actions`."""
