"""A user's own table as a campaign (:mod:`~evolve.tables.data_runs`): the config for
``evolve run --data``, what was done to every column, and the baselines a user compares with."""
