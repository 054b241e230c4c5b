"""Where the shared files are, in the repository and in an installed prefix (cmake --install)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def first_existing(candidates, what):
    for c in candidates:
        if c and os.path.exists(c):
            return c
    raise FileNotFoundError(f"cannot find {what} (looked in: {', '.join(c for c in candidates if c)})")


def schema_dir():
    # Repository: job_scripts/nagbench_sweep -> docs/schema. Installed: share/nagbench/python/nagbench_sweep ->
    # share/nagbench/schema.
    return first_existing([os.environ.get("NAGBENCH_SCHEMA_DIR"),
                           os.path.join(HERE, "..", "..", "docs", "schema"),
                           os.path.join(HERE, "..", "..", "schema")], "the JSON schemas (docs/schema)")


def template_dir():
    return first_existing([os.path.join(HERE, "..", "templates"),
                           os.path.join(HERE, "..", "..", "templates")], "the job templates (job_scripts/templates)")
