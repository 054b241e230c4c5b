"""nagbench-sweep: sweep specifications (inputs/sweeps/*.yaml), the local runner and the batch-job generator.

One spec gives the points (one nagbench launch of one configuration each); one shell template per scheduler gives
the job that runs them, resumably: every point carries a tag, its record is appended to records.jsonl as it
finishes, a failed point appends a failure line, and a rerun skips the points whose tag has a verified record.
"""


class SpecError(Exception):
    """Bad input (spec, system file, command line): reported as one line, exit status 2."""
