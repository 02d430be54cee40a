"""Tools for the people who work on the project, not part of what runs: the benchmarks, fuzzing,
the OpenAPI document's generation and the build's bytecode step."""
