"""The dashboard's pages, one module each (registered in bot/dashboard/registry.py)."""
