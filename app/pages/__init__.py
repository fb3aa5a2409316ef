"""Pages people use: server-rendered HTML (Jinja2) over the same services and presenters as the API.

wiring.py says what the app mounts; each other module is one page or one job of the pages.
"""
