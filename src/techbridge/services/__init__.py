"""Use cases composing domain rules and the store, shared by the API, the web pages and the CLI."""
