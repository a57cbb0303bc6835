"""The `UCP-Agent` request header: the calling platform's profile and the protocol version it speaks.

The header is an RFC 8941 dictionary, `profile="https://agent.example/profile.json"`, optionally with the
platform's version as a parameter of the profile or as a member of its own (`; version="2026-01-11"`).
Agora does not fetch the platform's profile (it would make every request depend on an outside host): the
version said in the header is the one negotiated, and without one Agora answers in its newest version.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import http_sfv
import msgspec

from market.core.errors import DomainError, InvalidInput

# The protocol versions Agora serves, oldest first. A platform on a version newer than Agora's newest is
# refused (UCP's version rule); one on an older version is answered in the newest served not newer than its.
VERSIONS = ("2026-01-11", "2026-04-08")
CURRENT = VERSIONS[-1]
HEADER = "UCP-Agent"


class VersionUnsupported(DomainError):
    """The platform speaks a protocol version newer than any Agora serves (or one older than the oldest)."""


class Agent(msgspec.Struct, frozen=True):
    """Who called: the platform's profile URL, and the UCP version its request is answered in."""

    profile: str
    version: str


def read_agent(header: str | None, versions: tuple[str, ...] = VERSIONS) -> Agent:
    """The platform behind a `UCP-Agent` header; a missing or malformed one is refused (400, UCP's
    `invalid_profile_url`), and a version Agora cannot answer in is refused too (`version_unsupported`).
    `versions`: those the route answers in, oldest first."""
    if header is None or not header.strip():
        raise InvalidInput(
            "invalid_profile_url",
            'UCP requests carry a UCP-Agent header naming the platform\'s profile: profile="https://..."',
            where=f"header.{HEADER}",
        )
    members = http_sfv.Dictionary()
    try:
        members.parse(header.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        members = None
    profile = members.get("profile") if members is not None else None
    url = profile.value if profile is not None else None
    if not isinstance(url, str) or not _profile_address(url):
        raise InvalidInput(
            "invalid_profile_url",
            'UCP-Agent is an RFC 8941 dictionary with an absolute profile URL: profile="https://..."',
            where=f"header.{HEADER}",
        )
    asked = profile.params.get("version") if profile is not None else None
    if asked is None and "version" in members:
        asked = members["version"].value
    return Agent(profile=url, version=negotiated_version(asked, versions))


def negotiated_version(asked: object, versions: tuple[str, ...] = VERSIONS) -> str:
    """The version to answer a platform on `asked` in: the newest of `versions` not newer than its own.
    A route family of an older version (`/ucp/2026-01-11`) answers a newer platform in its own version."""
    if asked is None:
        return versions[-1]
    if not isinstance(asked, str):
        raise InvalidInput("invalid_value", "the UCP version is a date string", where=f"header.{HEADER}")
    usable = [version for version in versions if version <= asked]
    if asked > CURRENT or not usable:
        raise VersionUnsupported(
            "version_unsupported",
            f"UCP version {asked[:40]} is not supported; this business implements {', '.join(VERSIONS)}.",
            where=f"header.{HEADER}",
        )
    return usable[-1]


def _profile_address(url: str) -> bool:
    # Never fetched (see above), so a relative or placeholder address does no harm: only an empty one or
    # another scheme than http(s) is refused.
    parts = urlsplit(url)
    return bool(url.strip()) and (not parts.scheme or parts.scheme in ("http", "https"))
