"""The connector runtime: connector classes, definitions, lifecycle states, dead letters,
and the `exchange connect` worker that runs sources and sinks."""
