"""The Tensorleap adapter: what the binder (`leap_binder.py`) serves and draws."""
