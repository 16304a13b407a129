"""One router per topic; :func:`ansim.api.app.create_app` includes them."""
