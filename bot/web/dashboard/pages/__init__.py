"""The dashboard's pages, one module each (registered in bot/web/dashboard/registry.py)."""
