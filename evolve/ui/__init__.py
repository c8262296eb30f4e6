"""What a person watches: the terminal display (:mod:`~evolve.ui.display`) and the read-only local
dashboard (:mod:`evolve.ui.dashboard`)."""
