"""The hooks layer: callbacks, pipelines of them and the guard; built on the core only."""
