"""Controls: the shared sidebar controls (:mod:`.shared`) with the data-set gallery
(:mod:`.gallery`) and the share box (:mod:`.share`), each page's own controls
(:mod:`.arrangements`, :mod:`.path`, :mod:`.sgd`), presets and routing. Every control is
bound to the URL through :mod:`pages.common.url`; lecture mode is :mod:`pages.common.lecture`."""
