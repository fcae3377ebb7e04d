"""Adapters that run cinnamon callbacks inside other training frameworks.

Each module imports its framework when it is imported itself, and only then:
``import cinnamon`` never loads any of them.

- :mod:`cinnamon.integrations.keras`: :class:`~cinnamon.integrations.keras.KerasCallback`,
  for ``model.fit(callbacks=[...])`` (``pip install "cinnamon[keras]"``);
- :mod:`cinnamon.integrations.lightning`:
  :class:`~cinnamon.integrations.lightning.LightningCallback`, for
  ``Trainer(callbacks=[...])`` (``pip install "cinnamon[lightning]"``);
- :mod:`cinnamon.integrations.huggingface`:
  :class:`~cinnamon.integrations.huggingface.HuggingFaceCallback`, for Hugging Face's
  ``Trainer(callbacks=[...])`` (``pip install "cinnamon[huggingface]"``).
"""
