"""The job machinery, apart from the science: a SQLite store that survives restarts (``store``) and
a manager that runs jobs on worker threads with progress and cancel (``manager``)."""
