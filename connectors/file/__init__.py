"""The `file` connector class: a directory of JSON Lines/CSV files in, JSON Lines files out."""

from connectors.base import ConnectorClass
from connectors.file.sink import FileSink
from connectors.file.source import FileSource

FILE = ConnectorClass(
    name="file",
    description="Source: JSON Lines/CSV files dropped into a directory. "
    "Sink: JSON Lines files, rotated by size or age.",
    source=FileSource,
    sink=FileSink,
)
