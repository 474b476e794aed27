"""The residents' pages, one module per page family; issues/urls.py maps URLs to them."""
