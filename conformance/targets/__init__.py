"""Targets of the suite: the profile that describes one, and the HTTP client every test goes through."""
