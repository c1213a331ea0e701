"""Gallery figures: misc (see ildl.gallery.registry)."""
