"""Data input and output: CSV tables (:mod:`.table`, pure), the session's user-data registry
(:mod:`.registry`), the upload panel (:mod:`.upload`) and click editing (:mod:`.editing`)."""
