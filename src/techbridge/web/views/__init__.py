"""One module per resource's pages, each with its own router that ``routes.mount`` includes."""
