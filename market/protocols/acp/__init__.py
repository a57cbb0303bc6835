"""The Agentic Commerce Protocol (ACP) checkout, merchant side: payloads, their mapping, routes, discovery."""
