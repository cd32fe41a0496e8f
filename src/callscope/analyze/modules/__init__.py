"""Built-in analyzers. Importing this package registers each module with the default registry."""
