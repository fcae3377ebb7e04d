"""Adapters that run cinnamon callbacks inside other training frameworks.

Each module imports its framework when it is imported itself, and only then:
``import cinnamon`` never loads Keras or Lightning.

- :mod:`cinnamon.integrations.keras`: :class:`~cinnamon.integrations.keras.KerasCallback`,
  for ``model.fit(callbacks=[...])`` (``pip install "cinnamon[keras]"``);
- :mod:`cinnamon.integrations.lightning`:
  :class:`~cinnamon.integrations.lightning.LightningCallback`, for
  ``Trainer(callbacks=[...])`` (``pip install "cinnamon[lightning]"``).
"""
