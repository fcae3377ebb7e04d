"""Built-in callbacks for training loops: progress, logs, early stopping, checkpoints, ...

Each callback works alone or in a :class:`~cinnamon.CallbackPipeline` with the others,
and most have a configuration bound to it, so they can be registered or declared in a
file like any component::

    [registrations."demo:stop"]
    config = "cinnamon.callbacks:EarlyStoppingConfig"
    [registrations."demo:stop".fields]
    patience = 3

They follow the shape of a training loop that guards ``fit`` and each epoch (and
perhaps each batch) with :func:`~cinnamon.guard`:

- ``on_fit_begin`` / ``on_fit_end``: around the whole fit; the end hook receives what
  ``fit`` returned (a dict of final metrics, or anything else);
- ``on_epoch_begin`` / ``on_epoch_end``: around each epoch; the end hook receives the
  epoch's metrics as a dict, such as ``{"epoch": 3, "loss": 0.2, "val_loss": 0.3}``;
- ``on_batch_end``: after each batch, with the batch's metrics.

Epochs are numbered from 1. A callback takes the number from the ``epoch`` entry of the
logs when there is one, and otherwise counts the epochs that ended since the fit began.

Some callbacks need something from the component they are attached to with
:meth:`~cinnamon.Callback.setup` (the *host*): :class:`EarlyStopping` and
:class:`TerminateOnNaN` set its ``stop_training`` attribute, :class:`Checkpoint` calls
its ``state_dict()`` (and ``EarlyStopping(restore_best=True)`` its
``load_state_dict()`` too), the learning-rate callbacks change the ``learning_rate`` of
``host.optimizer`` (:class:`HasLearningRate`), and :class:`ProgressBar` reads its
``epochs`` and ``batches_per_epoch``, if it has them. Callbacks that write files write
them into the ``save_path`` given to ``setup``.

Each callback lives in a module of its own; they are all imported from here.
"""

from cinnamon.callbacks._checkpoint import Checkpoint, CheckpointConfig, SavedCheckpoint
from cinnamon.callbacks._csv_logger import CSVLogger, CSVLoggerConfig
from cinnamon.callbacks._early_stopping import EarlyStopping, EarlyStoppingConfig
from cinnamon.callbacks._history import History, HistoryConfig
from cinnamon.callbacks._lambda import LambdaCallback
from cinnamon.callbacks._learning_rate import (
    HasLearningRate,
    LearningRateScheduler,
    LearningRateSchedulerConfig,
    ReduceLROnPlateau,
    ReduceLROnPlateauConfig,
    StepDecay,
    StepDecayConfig,
)
from cinnamon.callbacks._metrics_logger import MetricsLogger, MetricsLoggerConfig
from cinnamon.callbacks._progress import ProgressBar, ProgressBarConfig
from cinnamon.callbacks._pruning import Pruning, PruningConfig
from cinnamon.callbacks._serializers import (
    JsonSerializer,
    JsonSerializerConfig,
    NpzSerializer,
    NpzSerializerConfig,
    Serializer,
)
from cinnamon.callbacks._terminate_on_nan import TerminateOnNaN, TerminateOnNaNConfig
from cinnamon.callbacks._timer import Timer, TimerConfig

__all__ = [
    "CSVLogger",
    "CSVLoggerConfig",
    "Checkpoint",
    "CheckpointConfig",
    "EarlyStopping",
    "EarlyStoppingConfig",
    "HasLearningRate",
    "History",
    "HistoryConfig",
    "JsonSerializer",
    "JsonSerializerConfig",
    "LambdaCallback",
    "LearningRateScheduler",
    "LearningRateSchedulerConfig",
    "MetricsLogger",
    "MetricsLoggerConfig",
    "NpzSerializer",
    "NpzSerializerConfig",
    "ProgressBar",
    "ProgressBarConfig",
    "Pruning",
    "PruningConfig",
    "ReduceLROnPlateau",
    "ReduceLROnPlateauConfig",
    "SavedCheckpoint",
    "Serializer",
    "StepDecay",
    "StepDecayConfig",
    "TerminateOnNaN",
    "TerminateOnNaNConfig",
    "Timer",
    "TimerConfig",
]
