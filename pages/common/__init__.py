"""UI helpers shared by the pages, in rooms (a module imports only from rooms above it):

- ``palette`` (colours), ``errors`` (the error ladder), ``url`` (URL-bound state), ``lecture``;
- ``figures/``: pure ``data -> go.Figure`` builders;
- ``cache/``: cached engine calls (pure, keyed by small hashable values);
- ``data/``: CSV tables, the session's user data, upload and click editing;
- ``export/``: figures on the page and their downloads, model JSON, data CSV, snippets;
- ``controls/``: the shared sidebar controls, each page's controls, presets, routing;
- ``solve``: cached fits and paths behind the error ladder; ``real_data_section``.

``tests/test_page_layers.py`` checks that no import cycle appears between these modules.
"""
