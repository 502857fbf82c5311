"""Use cases composed from the layers below, shared by the CLI, the API and the web pages."""
