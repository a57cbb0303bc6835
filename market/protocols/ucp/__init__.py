"""The Universal Commerce Protocol (UCP): the business profile at `/.well-known/ucp`, the catalog (search,
lookup, product), checkout sessions and orders over REST, and the same operations as MCP tools.

`agent` reads who is calling and which protocol version they speak; `models` and `checkout_models` hold
UCP's payloads; `profile` is the business profile and `envelope` the `ucp` object of every answer; `catalog`
maps search and listings onto UCP products; `checkout` reads UCP's checkout requests into the checkout
core's terms, `rendering` writes the core's sessions back and `orders` shows an order; `routes`,
`checkout_routes` and `headers` are the REST binding, `mcp_server` the MCP one."""
