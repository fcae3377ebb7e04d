"""Optional integrations, each in a module that imports its library only when used.

``import cinnamon`` never loads any of them; a missing library is a clear error naming
the extra to install.

Adapters that run cinnamon callbacks inside other training frameworks:

- :mod:`cinnamon.integrations.keras`: :class:`~cinnamon.integrations.keras.KerasCallback`,
  for ``model.fit(callbacks=[...])`` (``pip install "cinnamon[keras]"``);
- :mod:`cinnamon.integrations.lightning`:
  :class:`~cinnamon.integrations.lightning.LightningCallback`, for
  ``Trainer(callbacks=[...])`` (``pip install "cinnamon[lightning]"``);
- :mod:`cinnamon.integrations.huggingface`:
  :class:`~cinnamon.integrations.huggingface.HuggingFaceCallback`, for Hugging Face's
  ``Trainer(callbacks=[...])`` (``pip install "cinnamon[huggingface]"``).

Callbacks for experiment trackers, and pictures:

- :mod:`cinnamon.integrations.tensorboard`: ``TensorBoardLogger`` writes TensorBoard
  event files itself (no dependency; ``cinnamon[tensorboard]`` installs the viewer);
- :mod:`cinnamon.integrations.mlflow`: ``MLflowLogger`` records runs in MLflow
  (``pip install "cinnamon[mlflow]"``);
- :mod:`cinnamon.integrations.plots`: training curves and sweep pictures
  (``pip install "cinnamon[plot]"``).
"""
