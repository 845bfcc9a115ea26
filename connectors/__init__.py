"""Built-in connector classes that move records between department systems and the hub."""
