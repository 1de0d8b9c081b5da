"""UI helpers shared by the pages: controls and URL state, caching, figure builders."""
