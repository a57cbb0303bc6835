"""The seller API over HTTP: registration, keys, and the catalog. Rules live in accounts.py and catalog.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from litestar.response import Stream

from market.core import rate_limits
from market.core.auth import SELLER_KEY
from market.core.db import BIGINT_MAX
from market.core.dependencies import AppSettings, Pool
from market.core.errors import DomainError, InvalidInput, TooLarge, UnsupportedMediaType
from sellers import accounts, catalog, feed
from sellers.accounts import Principal
from sellers.feed import Listing
from sellers.importer import CsvReader, MalformedBody, NdjsonReader, read_json_array
from sellers.schemas import (
    ApiKeyInfo,
    Availability,
    BatchResult,
    ImportSummary,
    IssuedKey,
    Product,
    ProductPage,
    ProductPatch,
    ProductStatus,
    Seller,
    SellerCreated,
    SellerPatch,
    SellerRegistration,
)

SellerPrincipal = NamedDependency[Principal]

NDJSON_TYPES = {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
CSV_TYPES = {"text/csv", "application/csv"}


class SellerController(Controller):
    path = "/v1/sellers"
    tags = ("sellers",)

    @post(
        "/",
        status_code=201,
        opt=rate_limits.SELLER_REGISTRATION,
        summary="Register a seller; the answer holds its API key, shown only this once",
    )
    async def register(self, data: JSONBody[SellerRegistration], pool: Pool) -> SellerCreated:
        return await accounts.register_seller(pool, data)

    @get("/me", security=SELLER_KEY, summary="The seller holding this key")
    async def me(self, principal: SellerPrincipal) -> Seller:
        return principal.seller

    @patch(
        "/me",
        security=SELLER_KEY,
        summary="Change this seller's name or what it says of shipping and returns",
        description=(
            "Only the fields sent change. `null` (or an empty `ships_to`) takes back what was said: the "
            "shopper is then told that the seller does not say."
        ),
    )
    async def update_me(self, data: JSONBody[SellerPatch], principal: SellerPrincipal, pool: Pool) -> Seller:
        return await accounts.update_seller(pool, principal.seller.seller_id, data)

    @get("/me/keys", security=SELLER_KEY, summary="All keys of this seller (hashes are never shown)")
    async def keys(self, principal: SellerPrincipal, pool: Pool) -> list[ApiKeyInfo]:
        return await accounts.list_keys(pool, principal.seller.seller_id)

    @post(
        "/me/keys",
        status_code=201,
        security=SELLER_KEY,
        opt=rate_limits.KEY_ISSUE,
        summary="Issue an additional key (409 too_many_keys at the limit of active keys)",
    )
    async def add_key(self, principal: SellerPrincipal, pool: Pool, settings: AppSettings) -> IssuedKey:
        return await accounts.issue_key(pool, principal.seller.seller_id, max_active=settings.max_active_keys)

    @post(
        "/me/keys/rotate",
        status_code=201,
        security=SELLER_KEY,
        opt=rate_limits.KEY_ISSUE,
        summary="Replace the key used: it stops working now",
    )
    async def rotate_key(self, principal: SellerPrincipal, pool: Pool) -> IssuedKey:
        return await accounts.rotate_key(pool, principal)

    @delete("/me/keys/{key_id:uuid}", status_code=200, security=SELLER_KEY, summary="Revoke one key")
    async def revoke_key(self, key_id: FromPath[UUID], principal: SellerPrincipal, pool: Pool) -> ApiKeyInfo:
        return await accounts.revoke_key(pool, principal.seller.seller_id, key_id)


class CatalogController(Controller):
    path = "/v1/catalog"
    tags = ("catalog",)
    security = SELLER_KEY

    @post(
        "/products",
        status_code=200,
        summary="Create or update up to 1,000 products (a JSON array, or NDJSON)",
        description=(
            "Idempotent by the product's own `id`: re-sending an identical product changes nothing. "
            "Valid items are stored in one transaction; each rejected item is reported with its `index`, "
            "`field` and `message`, and does not stop the others."
        ),
    )
    async def upsert_products(
        self, request: Request, principal: SellerPrincipal, pool: Pool, settings: AppSettings
    ) -> BatchResult:
        body = await request.body()
        media_type = _media_type(request)
        if media_type in NDJSON_TYPES:
            reader = NdjsonReader()
            items = reader.feed(body) + reader.finish()
        elif media_type in ("application/json", ""):
            try:
                items = read_json_array(body)
            except MalformedBody as exc:
                raise InvalidInput("malformed_json", str(exc), where="body") from None
        else:
            raise _unsupported(media_type, "application/json or application/x-ndjson")
        if len(items) > settings.max_batch_items:
            raise TooLarge(
                "batch_too_large",
                f"{len(items)} products in one request; the limit is {settings.max_batch_items}. "
                "Split the batch, or use POST /v1/catalog/imports for whole files.",
                where="body",
            )
        return await catalog.upsert_batch(pool, principal.seller, items)

    @post(
        "/imports",
        status_code=200,
        request_max_body_size=None,  # enforced while streaming, against AGORA_MAX_IMPORT_BYTES
        summary="Import a whole catalog file (CSV or NDJSON), streamed",
        description=(
            "Send the file as the body with Content-Type text/csv or application/x-ndjson. Products are "
            "committed every 1,000 rows; the answer counts them and lists the first 1,000 rejected rows "
            "with their line numbers."
        ),
    )
    async def import_file(
        self, request: Request, principal: SellerPrincipal, pool: Pool, settings: AppSettings
    ) -> ImportSummary:
        media_type = _media_type(request)
        if media_type in NDJSON_TYPES:
            reader: catalog.ItemReader = NdjsonReader()
        elif media_type in CSV_TYPES:
            reader = CsvReader()
        else:
            raise _unsupported(media_type, "text/csv or application/x-ndjson")
        try:
            return await catalog.import_stream(
                pool,
                principal.seller,
                _limited(request, settings.max_import_bytes),
                reader,
                batch_size=settings.max_batch_items,
                from_text=isinstance(reader, CsvReader),
            )
        except MalformedBody as exc:
            raise InvalidInput("malformed_file", str(exc), where="body") from None

    @get("/products", summary="List this seller's products, a page at a time")
    async def list_products(
        self,
        principal: SellerPrincipal,
        pool: Pool,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        cursor: FromQuery[str | None] = None,
        category: Annotated[
            str | None, QueryParameter(description="a category path or a prefix of one")
        ] = None,
        brand: FromQuery[str | None] = None,
        availability: FromQuery[Availability | None] = None,
        status: FromQuery[ProductStatus | None] = None,
        updated_since: FromQuery[datetime | None] = None,
    ) -> ProductPage:
        return await catalog.list_products(
            pool,
            principal.seller,
            cursor=cursor,
            limit=limit,
            category=category,
            brand=brand,
            availability=availability,
            status=status,
            updated_since=updated_since,
        )

    @get("/products/{id:str}", summary="One product, by the seller's own id")
    async def get_product(self, id: FromPath[str], principal: SellerPrincipal, pool: Pool) -> Product:
        return await catalog.get_product(pool, principal.seller, id)

    @patch("/products/{id:str}", summary="Change price, stock or status")
    async def patch_product(
        self, id: FromPath[str], data: JSONBody[ProductPatch], principal: SellerPrincipal, pool: Pool
    ) -> Product:
        return await catalog.patch_product(pool, principal.seller, id, data)

    @delete("/products/{id:str}", summary="Delete a product (past orders keep it)")
    async def delete_product(self, id: FromPath[str], principal: SellerPrincipal, pool: Pool) -> None:
        await catalog.delete_product(pool, principal.seller, id)


class PublicCatalogController(Controller):
    """What anyone may read of the catalog: the whole of it as a product feed, and one product."""

    path = "/v1"
    tags = ("catalog",)

    @get(
        "/feed",
        media_type="application/x-ndjson",
        summary="The catalog as a product feed: NDJSON, one product per line, streamed",
        description=(
            "Every product shoppers may find, in the OpenAI product feed's current field names, in product "
            "order; `seller_id` limits it to one seller. A line is what a seller uploads, with what the "
            "product leaves unsaid filled from its seller's account (name, country, shipping, returns): "
            "`POST /v1/catalog/imports` takes it back as it is."
        ),
    )
    async def product_feed(self, pool: Pool, seller_id: FromQuery[UUID | None] = None) -> Stream:
        return Stream(feed.feed_lines(pool, seller_id=seller_id), media_type="application/x-ndjson")

    @get(
        "/products/{product_id:int}",
        summary="One product's public listing, with the variants of its product",
        description="404 unless shoppers may find the product (not deleted, paused or hidden from search).",
    )
    async def product_listing(
        self, pool: Pool, product_id: Annotated[int, Parameter(ge=1, le=BIGINT_MAX)]
    ) -> Listing:
        return await feed.listing(pool, product_id)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _unsupported(media_type: str, expected: str) -> DomainError:
    return UnsupportedMediaType(
        "unsupported_media_type",
        f"Content-Type {media_type!r}: send {expected}.",
        where="header.Content-Type",
    )


async def _limited(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The request body as it arrives, refused (before reading, when the length is announced) past `limit`."""
    too_large = TooLarge(
        "payload_too_large", f"The file is larger than the limit of {limit} bytes.", where="body"
    )
    announced = request.headers.get("content-length")
    if announced and announced.isdigit() and int(announced) > limit:
        raise too_large
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large
        yield chunk
