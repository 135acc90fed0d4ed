"""The web edge: FastAPI routes, WebSockets and the pages they serve."""
