"""Files an exercise adds to a student's copy: `<id>_start.py` (what the student starts from) and
`<id>_solution.py` (the reference answer `exercise solution` shows, and the tests check)."""
