"""Gallery figures: surfaces (see ildl.gallery.registry)."""
