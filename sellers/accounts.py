"""Seller accounts and their API keys: registration, authentication, rotation, revocation, suspension.

HTTP stays in routes.py; SQL stays in store.py.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from market.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from market.core.money import Money
from sellers import store
from sellers.schemas import (
    ApiKeyInfo,
    IssuedKey,
    Payee,
    Seller,
    SellerCreated,
    SellerPatch,
    SellerPolicy,
    SellerRegistration,
)
from sellers.validation import KNOWN_COUNTRIES, Problem, check_currency

API_KEY_PREFIX = "agora_sk_"
# What a seller says of shipping and returns; the two Money fields are stored as amount and currency columns.
POLICY_FIELDS = ("ships_to", "shipping_price", "free_shipping_over", "return_window_days")
_MONEY_FIELDS = ("shipping_price", "free_shipping_over")


@dataclass(frozen=True)
class Principal:
    """The seller behind a request, and which of its keys was used."""

    seller: Seller
    key_id: UUID


async def register_seller(pool: asyncpg.Pool, registration: SellerRegistration) -> SellerCreated:
    if registration.country not in KNOWN_COUNTRIES:
        raise InvalidInput.invalid("body.country", f"{registration.country!r} is not an ISO 3166-1 country")
    _check_currency(registration.currency, "body.currency")
    name = _checked_name(registration.name)
    stated = _policy_columns({field: getattr(registration, field) for field in POLICY_FIELDS})
    email_taken = Conflict(
        "email_taken", "A seller with this email is already registered.", where="body.email"
    )
    try:
        async with pool.acquire() as conn, conn.transaction():
            if await store.find_seller_by_email(conn, registration.email):
                raise email_taken
            row = await store.insert_seller(
                conn, name, registration.email, registration.country, registration.currency, stated
            )
            seller = _seller(row)
            key = await _issue_key(conn, seller.seller_id)
    except asyncpg.UniqueViolationError:  # the same email registered at the same moment
        raise email_taken from None
    return SellerCreated(seller_id=seller.seller_id, api_key=key.api_key, key_id=key.key_id, seller=seller)


async def authenticate(pool: asyncpg.Pool, api_key: str) -> Principal:
    """The seller holding `api_key`; 401 for an unknown or revoked key, 403 for a suspended seller."""
    async with pool.acquire() as conn:
        row = await store.find_key(conn, hash_api_key(api_key))
    if row is None:
        raise Unauthenticated(
            "invalid_api_key", "The API key is unknown or revoked.", where="header.Authorization"
        )
    values = dict(row)
    key_id = values.pop("key_id")
    seller = _seller(values)
    if seller.status != "active":
        raise Forbidden("seller_suspended", "This seller account is suspended.")
    return Principal(seller=seller, key_id=key_id)


async def issue_key(pool: asyncpg.Pool, seller_id: UUID, *, max_active: int | None) -> IssuedKey:
    """A further key, unless the seller already holds `max_active` live ones (409: revoke one first);
    None: no limit (the demo's own tooling)."""
    async with pool.acquire() as conn, conn.transaction():
        active = await store.count_active_keys_locked(conn, seller_id)
        if max_active is not None and active >= max_active:
            raise Conflict(
                "too_many_keys",
                f"This seller already has {active} active keys; the limit is {max_active}. "
                "Revoke one (DELETE /v1/sellers/me/keys/{key_id}) to free a place.",
            )
        return await _issue_key(conn, seller_id)


async def rotate_key(pool: asyncpg.Pool, principal: Principal) -> IssuedKey:
    """A new key replaces the one used to ask: the old key stops working at once."""
    async with pool.acquire() as conn, conn.transaction():
        key = await _issue_key(conn, principal.seller.seller_id)
        await store.revoke_api_key(conn, principal.seller.seller_id, principal.key_id)
    return key


async def list_keys(pool: asyncpg.Pool, seller_id: UUID) -> list[ApiKeyInfo]:
    async with pool.acquire() as conn:
        return [ApiKeyInfo(**row) for row in await store.list_api_keys(conn, seller_id)]


async def revoke_key(pool: asyncpg.Pool, seller_id: UUID, key_id: UUID) -> ApiKeyInfo:
    async with pool.acquire() as conn:
        row = await store.revoke_api_key(conn, seller_id, key_id)
    if row is None:
        raise NotFound("key_not_found", f"No key {key_id} among your keys.", where="path.key_id")
    return ApiKeyInfo(**row)


def hash_api_key(api_key: str) -> bytes:
    # Keys carry 256 random bits, so a fast hash is safe here: there is nothing to brute-force.
    return hashlib.sha256(api_key.encode()).digest()


async def _issue_key(conn: asyncpg.Connection, seller_id: UUID) -> IssuedKey:
    api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = await store.insert_api_key(
        conn, seller_id, hash_api_key(api_key), api_key[: len(API_KEY_PREFIX) + 4]
    )
    return IssuedKey(
        key_id=row["key_id"], api_key=api_key, prefix=row["prefix"], created_at=row["created_at"]
    )


async def get_seller(pool: asyncpg.Pool, seller_id: UUID) -> Seller | None:
    async with pool.acquire() as conn:
        row = await store.get_seller(conn, seller_id)
    return _seller(row) if row else None


async def find_seller_by_email(pool: asyncpg.Pool, email: str) -> Seller | None:
    async with pool.acquire() as conn:
        row = await store.find_seller_by_email(conn, email)
    return _seller(row) if row else None


async def list_sellers(pool: asyncpg.Pool, after: UUID | None, limit: int) -> list[Seller]:
    async with pool.acquire() as conn:
        return [_seller(row) for row in await store.list_sellers(conn, after, limit)]


async def set_seller_status(pool: asyncpg.Pool, seller_id: UUID, status: str) -> Seller:
    async with pool.acquire() as conn:
        row = await store.set_seller_status(conn, seller_id, status)
    if row is None:
        raise NotFound("seller_not_found", f"No seller {seller_id}.", where="path.seller_id")
    return _seller(row)


async def update_seller(pool: asyncpg.Pool, seller_id: UUID, patch: SellerPatch) -> Seller:
    """Change the seller's name or what it says of shipping and returns: only the fields the patch holds."""
    stated = {
        field: value for field, value in msgspec.structs.asdict(patch).items() if value is not msgspec.UNSET
    }
    changes = {"name": _checked_name(stated.pop("name"))} if "name" in stated else {}
    changes |= _policy_columns(stated)
    async with pool.acquire() as conn:
        if changes:
            row = await store.update_seller(conn, seller_id, changes)
        else:
            row = await store.get_seller(conn, seller_id)
    if row is None:
        raise NotFound("seller_not_found", f"No seller {seller_id}.")
    return _seller(row)


async def policies(pool: asyncpg.Pool, seller_ids: Sequence[UUID]) -> dict[UUID, SellerPolicy]:
    """What each seller says of shipping and returns, for telling shoppers; unknown ids are left out."""
    async with pool.acquire() as conn:
        rows = await store.sellers_by_id(conn, seller_ids)
    return {
        seller.seller_id: SellerPolicy(
            seller_name=seller.name,
            ships_to=seller.ships_to,
            shipping_price=seller.shipping_price,
            free_shipping_over=seller.free_shipping_over,
            return_window_days=seller.return_window_days,
        )
        for seller in map(_seller, rows)
    }


async def payees(conn: asyncpg.Connection, seller_ids: Sequence[UUID]) -> dict[UUID, Payee]:
    """Who each seller is to payments: name and payout account."""
    rows = await store.payees(conn, seller_ids)
    return {
        row["id"]: Payee(seller_id=row["id"], name=row["name"], stripe_account_id=row["stripe_account_id"])
        for row in rows
    }


async def payout_details(pool: asyncpg.Pool, seller_id: UUID) -> Payee | None:
    """What opening a payout account for the seller needs (email, country) and the account if opened."""
    async with pool.acquire() as conn:
        row = await store.payout_account(conn, seller_id)
    if row is None:
        return None
    return Payee(
        seller_id=row["id"],
        name=row["name"],
        email=row["email"],
        country=row["country"],
        stripe_account_id=row["stripe_account_id"],
    )


async def keep_payout_account(pool: asyncpg.Pool, seller_id: UUID, account_id: str) -> str:
    """Record the seller's payout account unless one is there already; returns the one that stays."""
    async with pool.acquire() as conn:
        return await store.set_payout_account(conn, seller_id, account_id)


async def forget_payout_accounts(pool: asyncpg.Pool, seller_ids: Sequence[UUID]) -> None:
    """Drop the sellers' payout accounts (a local Stripe that starts empty no longer knows them)."""
    async with pool.acquire() as conn:
        await store.clear_payout_accounts(conn, seller_ids)


def _seller(row: Mapping[str, Any]) -> Seller:
    values = dict(row)
    for field in _MONEY_FIELDS:
        amount, currency = values.pop(f"{field}_amount"), values.pop(f"{field}_currency")
        values[field] = None if amount is None else Money(amount, currency)
    return Seller(**values)


def _checked_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput.invalid("body.name", "must not be blank")
    return name


def _check_currency(code: str, where: str) -> None:
    try:
        check_currency(code, where)
    except Problem as problem:
        raise InvalidInput.invalid(problem.field, problem.message) from None


def _policy_columns(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The columns that store the given policy fields, checked beyond their types: countries that exist (each
    kept once, in the seller's order) and currencies that do."""
    columns: dict[str, Any] = {}
    for field, value in fields.items():
        if field == "ships_to":
            for index, code in enumerate(value):
                if code not in KNOWN_COUNTRIES:
                    raise InvalidInput.invalid(
                        f"body.ships_to[{index}]", f"{code!r} is not an ISO 3166-1 country"
                    )
            columns[field] = list(dict.fromkeys(value))
        elif field in _MONEY_FIELDS:
            if value is not None:
                _check_currency(value.currency, f"body.{field}.currency")
            columns[f"{field}_amount"] = None if value is None else value.amount
            columns[f"{field}_currency"] = None if value is None else value.currency
        else:
            columns[field] = value
    return columns
