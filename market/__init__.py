"""The marketplace application: it composes sellers, ranking, payments and feedback into one service."""
