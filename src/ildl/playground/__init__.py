"""ildl.playground: a network you train in the browser, on the ildl.nn engine (``ildl playground``).

The page (``static/``) shows what a ``Session`` (``session.py``) trains; ``server.py`` connects
the two over HTTP on 127.0.0.1. A configuration (``config.py``) is the page's state and its URL;
``export.py`` writes the trained model as an ``.ildl`` file and as the Python code that trains it
again.
"""
