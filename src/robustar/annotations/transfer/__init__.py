"""Mask export and import in the formats other tools read and write: PNG folders or zips,
COCO (RLE or polygons) and Label Studio brush labels. `run` puts the pieces together."""
