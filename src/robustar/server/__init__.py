"""The HTTP face: FastAPI routes and schemas under /api/v1; the work happens in the library."""
