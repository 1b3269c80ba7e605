"""Northca Partner API: client, models, errors, and the local sandbox."""

from .client import PRODUCTION_BASE_URL, NorthcaClient
from .errors import NorthcaError

__all__ = ["PRODUCTION_BASE_URL", "NorthcaClient", "NorthcaError"]
