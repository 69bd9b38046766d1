"""Route modules, one per resource; each is thin and calls the Workspace."""
