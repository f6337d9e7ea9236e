"""The HTTP delivery shell: one FastAPI app (``create_app``) serving the API and pages."""

from privault.api.app import create_app

__all__ = ["create_app"]
