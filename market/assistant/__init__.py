"""The shopping assistant: a conversation that searches, compares, fills a cart and starts checkout.

It composes ranking (search), orders (carts, checkout) and feedback (events); nothing else imports it but the
app and the CLI.
"""
