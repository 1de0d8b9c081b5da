"""Cached engine calls: pure functions under ``st.cache_data`` / ``st.cache_resource``.

Keys are small hashable values (:class:`keys.Controls`, :func:`keys.data_key`, settings);
the data itself is passed as an unhashed ``_data`` / ``_X`` argument identified by its key.
Nothing here draws a widget, reads the URL or the session, or keeps module-global state: a
cached result depends on its arguments only. (The two long computations, a regularization
path and a batch of training runs, show a progress element while they run; on a cache hit
Streamlit replays it as nothing.)
"""
