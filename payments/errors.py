"""What can go wrong when Agora asks Stripe for something, in Agora's own terms.

Two kinds of failure matter to the code that calls Stripe: the shopper's card said no (PaymentError: tell
the shopper, cancel the order), or Stripe could not do it (GatewayError: unreachable, failing, or refusing
the request; try later or tell an operator). `stripe_errors()` turns every exception of the SDK into one of
the two, so no stripe class ever leaves the payments package.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import stripe


class LiveKeyRefused(ValueError):
    """A live Stripe key was given where only test keys are allowed."""


class PaymentError(Exception):
    """The shopper's payment was refused (a card decline): something the shopper can act on."""

    def __init__(
        self,
        code: str,
        message: str,
        decline_code: str | None = None,
        *,
        payment_intent_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id


class GatewayError(Exception):
    """Stripe could not do what was asked: unreachable, failing, or refusing the request itself.

    `retryable` says whether the same call may succeed later (network errors, 5xx, rate limits) or is
    wrong as asked (an invalid request, a bad key). `invalid_request` says Stripe answered that the
    request itself is wrong (an HTTP 400 invalid_request_error, with or without a `code`): what was asked,
    such as a payment method or token used outside its limits, not Stripe or Agora's setup, is at fault.
    `code` is Stripe's error code when it gave one; `reason` says what went wrong without naming the
    operation (Agora's own function), for messages a client reads.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retryable: bool = False,
        invalid_request: bool = False,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.invalid_request = invalid_request
        self.reason = reason or message


@contextlib.contextmanager
def stripe_errors(operation: str, api_base: str) -> Iterator[None]:
    """Translate the SDK's exceptions into PaymentError (the card said no) or GatewayError (all else)."""
    try:
        yield
    except stripe.CardError as declined:
        raise _payment_error(declined) from declined
    except stripe.APIConnectionError as unreachable:
        reason = f"could not reach Stripe at {api_base}"
        raise GatewayError(f"{operation}: {reason}", retryable=True, reason=reason) from unreachable
    except stripe.AuthenticationError as refused:
        reason = f"Stripe refused the API key: {refused.user_message}"
        raise GatewayError(f"{operation}: {reason}", reason=reason) from refused
    except stripe.RateLimitError as limited:
        reason = "Stripe is rate limiting requests"
        raise GatewayError(f"{operation}: {reason}", retryable=True, reason=reason) from limited
    except stripe.InvalidRequestError as invalid:
        raise GatewayError(
            f"{operation}: Stripe refused the request: {invalid.user_message}",
            code=invalid.code,
            invalid_request=True,
            reason=invalid.user_message,
        ) from invalid
    except (stripe.IdempotencyError, stripe.PermissionError) as refused:
        reason = f"Stripe refused the request: {refused.user_message}"
        raise GatewayError(f"{operation}: {reason}", code=refused.code, reason=reason) from refused
    except stripe.StripeError as failed:
        reason = f"Stripe failed (HTTP {failed.http_status}): {failed.user_message}"
        raise GatewayError(
            f"{operation}: {reason}",
            code=failed.code,
            retryable=failed.http_status is None or failed.http_status >= 500,
            reason=reason,
        ) from failed


def _payment_error(declined: stripe.CardError) -> PaymentError:
    error = (declined.json_body or {}).get("error") or {}
    intent = error.get("payment_intent") or {}  # the whole intent, as it stands after the decline
    return PaymentError(
        declined.code or "card_declined",
        declined.user_message or "The card was declined.",
        error.get("decline_code"),
        payment_intent_id=intent.get("id"),
    )
