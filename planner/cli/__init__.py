"""`python -m planner ...`: `main` parses and loads each subcommand's module on demand."""
