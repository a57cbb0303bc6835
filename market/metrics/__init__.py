"""The market seen by its numbers: money from the ledger, funnels and search quality from the event log,
unmet demand, seller insights, Prometheus metrics and the dashboards that draw them."""
