"""Explanations: saliency maps (Captum) and what the model responds to most per class."""
