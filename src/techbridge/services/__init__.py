"""Use cases that compose the domain, store and matching layers for the API, web pages and CLI."""
