"""The files layer: declarative formats with line positions, the loader, dump and schema."""
