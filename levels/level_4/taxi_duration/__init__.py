"""NYC taxi trip duration: the platform of level 3, and a loop that monitors, retrains, gates and promotes
by itself, month after month."""
