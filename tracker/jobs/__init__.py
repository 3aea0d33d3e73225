"""The jobs that write the store, under its lock: fetch, import, retag, and the scheduler that runs fetch."""
