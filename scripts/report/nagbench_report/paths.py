"""Where the shared files are, in the repository and in an installed prefix (cmake --install)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def schema_path(name):
    # Repository: scripts/report/nagbench_report -> docs/schema. Installed: share/nagbench/python/nagbench_report ->
    # share/nagbench/schema.
    for d in (os.environ.get("NAGBENCH_SCHEMA_DIR"), os.path.join(HERE, "..", "..", "..", "docs", "schema"),
              os.path.join(HERE, "..", "..", "schema")):
        if d and os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    raise FileNotFoundError(f"cannot find {name} (docs/schema, or set NAGBENCH_SCHEMA_DIR)")
