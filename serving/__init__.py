"""Everything about answering requests: the embedded server, clients, TF Serving manifests."""
