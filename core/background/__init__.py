"""Background work: the task queue and its worker (:mod:`.queue`), plugins' periodic jobs
(:mod:`.schedule`)."""
