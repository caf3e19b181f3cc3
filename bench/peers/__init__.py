"""The child processes the cases time: one module per piece of work, each printing JSON."""
