"""The marketplace's category and attribute vocabulary, kept as data files in `data/` with a small loader
(`vocabulary`), and the deterministic demo catalog drawn from it (`demo_catalog`)."""
