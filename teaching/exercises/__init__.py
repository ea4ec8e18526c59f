"""Checked exercises, rustlings-style: a level's own code with one practice taken out, checked by behaviour."""
