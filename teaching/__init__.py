"""The teaching layer: what turns five folders into a course (render, diff, explain, walkthrough…)."""
