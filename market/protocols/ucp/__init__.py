"""The Universal Commerce Protocol (UCP): the business profile at `/.well-known/ucp`, the catalog (search,
lookup, product), checkout sessions and orders over REST, and the same operations as MCP tools.

`agent` reads who is calling and which protocol version they speak, `models` holds UCP's payloads,
`profile` the business profile, `catalog` maps search and the catalog onto UCP products, `routes` is the
REST binding and `mcp_server` the MCP one."""
