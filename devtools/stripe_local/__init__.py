"""A local stand-in for api.stripe.com: localstripe extended with Checkout Sessions, Connect and idempotency.

Run it with ``python -m devtools.stripe_local --port 8420``; see README.md in this folder.
"""
