"""Exports: figures on the page and their downloads (:mod:`.chart`, :mod:`.live_chart`), model
JSON and data CSV (:mod:`.files`), reproducing snippets (:mod:`.snippet`), the Overview's
panels (:mod:`.panels`)."""
