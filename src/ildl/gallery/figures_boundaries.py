"""Gallery figures: boundaries (see ildl.gallery.registry)."""
