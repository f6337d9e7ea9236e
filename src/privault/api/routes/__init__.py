"""The REST API's routers, one per slice, mounted under ``/api/v1`` by ``mount_api``."""
