"""Target profiles: what a target offers the suite (values read from TOML, validated once)."""
