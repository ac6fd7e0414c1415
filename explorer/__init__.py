"""explorer: the explicit-state model checker behind the ``cowspec`` command."""
