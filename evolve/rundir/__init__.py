"""The run directory: every file a campaign writes and every reader of it.

:mod:`~evolve.rundir.schema` lists the files (name, format, writer, reader); the writers are
:mod:`~evolve.rundir.store` (atomic writes, checkpoints, program text, progress) and
:mod:`~evolve.rundir.results` (what a finished campaign leaves); :mod:`~evolve.rundir.read` reads
run directories as they are written; :mod:`~evolve.rundir.checkpoint_fields` and
:mod:`~evolve.rundir.resume_config` check what a checkpoint holds before it is used; the lineage
record is :mod:`~evolve.rundir.lineage`. Every file is read through the bounded reader
:mod:`problems.files`; nothing is executed or unpickled.
"""
