"""Annotations: versioned binary masks per (image, kind), assisted selection, import/export."""
