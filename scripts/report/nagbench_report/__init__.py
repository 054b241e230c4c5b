"""nagbench-report: tables, figures and a flat CSV from nagbench records; the regression gate (compare, references);
the performance model (model). docs/reports.md says what each part computes."""


class InputError(Exception):
    """Bad input: one line, exit status 2."""
