"""The core layer: keys, configurations, the tree walker, resolution, plans, the registry.

Nothing here imports from the layers above (hooks, files, runs, the command line).
"""
