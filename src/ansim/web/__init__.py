"""The web map served at ``/``: static page and assets (``static/``) and basemap builders (``basemap``)."""
