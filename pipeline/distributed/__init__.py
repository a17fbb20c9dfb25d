"""Where a stage's seeds run: one after another in the stage's process, or as Ray tasks on a cluster."""
