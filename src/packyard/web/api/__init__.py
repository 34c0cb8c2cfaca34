"""The REST API v2, shaped after Buildkite Package Registries' so scripts move unchanged."""
