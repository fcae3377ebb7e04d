"""Callbacks for experiment trackers, each in a module that imports its library only when used.

- :mod:`cinnamon.integrations.tensorboard`: :class:`TensorBoardLogger` writes TensorBoard
  event files itself (no dependency; ``cinnamon[tensorboard]`` installs the viewer).
- :mod:`cinnamon.integrations.mlflow`: :class:`MLflowLogger` records runs in MLflow
  (``pip install "cinnamon[mlflow]"``).
"""
