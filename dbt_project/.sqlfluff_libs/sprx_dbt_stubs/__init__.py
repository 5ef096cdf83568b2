"""Stand-ins for dbt's Jinja context, so SQLFluff's jinja templater renders the models without dbt.

SQLFluff's dbt templater needs a live warehouse connection; the jinja templater does not, but it only
knows ref, source, var, config, this and return (apply_dbt_builtins). This package adds the rest the
project uses: the `dbt` namespace of cross-database macros (rendered as dbt-duckdb renders them, so
the linter sees DuckDB SQL), `var` with the values in dbt_project.yml, `adapter.dispatch`, `target`
and a few more. Every name here that does not start with two underscores becomes a template
variable (SQLFluff's library_path), so helpers are kept inside classes.
"""

import datetime as _datetime
import pathlib as _pathlib
import re as _re


class _Vars:
    """dbt_project.yml `vars:` read without a YAML dependency (flat `name: value` lines only)."""

    def __init__(self) -> None:
        self.values: dict = {}
        project = _pathlib.Path(__file__).resolve().parents[2] / "dbt_project.yml"
        in_vars = False
        for line in project.read_text(encoding="utf-8").splitlines():
            if _re.match(r"^vars:\s*$", line):
                in_vars = True
                continue
            if in_vars and line and not line.startswith((" ", "#")):
                break
            match = _re.match(r"^\s+([A-Za-z_][A-Za-z0-9_]*):\s*(.+?)\s*$", line) if in_vars else None
            if match and not match.group(2).startswith("#"):
                raw = match.group(2).strip().strip("\"'")
                self.values[match.group(1)] = int(raw) if raw.lstrip("-").isdigit() else raw

    def __call__(self, name, default=None):
        if name in self.values:
            return self.values[name]
        return default if default is not None else name


var = _Vars()


class _Dbt:
    """The cross-database macros the models call, as dbt-duckdb renders them."""

    @staticmethod
    def dateadd(datepart, interval, from_date_or_timestamp):
        return f"({from_date_or_timestamp} + cast({interval} as bigint) * interval 1 {datepart})"

    @staticmethod
    def datediff(first_date, second_date, datepart):
        return f"date_diff('{datepart}', cast({first_date} as timestamp), cast({second_date} as timestamp))"

    @staticmethod
    def date_trunc(datepart, date):
        return f"date_trunc('{datepart}', {date})"

    def last_day(self, date, datepart):
        next_period = self.dateadd(datepart, "1", self.date_trunc(datepart, date))
        return f"cast({self.dateadd('day', '-1', next_period)} as date)"

    @staticmethod
    def concat(fields):
        return f"concat({', '.join(fields)})"

    @staticmethod
    def right(string_text, length_expression):
        return f"right({string_text}, {length_expression})"

    @staticmethod
    def position(substring_text, string_text):
        return f"position({substring_text} in {string_text})"

    @staticmethod
    def replace(field, old_chars, new_chars):
        return f"replace({field}, {old_chars}, {new_chars})"

    @staticmethod
    def split_part(string_text, delimiter_text, part_number):
        return f"split_part({string_text}, {delimiter_text}, {part_number})"

    @staticmethod
    def hash(field):
        return f"md5(cast({field} as varchar))"

    @staticmethod
    def safe_cast(field, type):
        return f"cast({field} as {type})"

    @staticmethod
    def cast(field, type):
        return f"cast({field} as {type})"

    @staticmethod
    def string_literal(value):
        return "'" + str(value).replace("'", "''") + "'"

    @staticmethod
    def date(year, month, day):
        return f"cast('{_datetime.date(year, month, day).isoformat()}' as date)"

    @staticmethod
    def current_timestamp():
        return "now()"

    @staticmethod
    def any_value(expression):
        return f"any_value({expression})"

    @staticmethod
    def bool_or(expression):
        return f"bool_or({expression})"

    @staticmethod
    def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
        order = f" {order_by_clause}" if order_by_clause else ""
        return f"string_agg({measure}, {delimiter_text}{order})"

    @staticmethod
    def generate_series(upper_bound):
        return f"select generate_series as generated_number from generate_series(1, {upper_bound})"

    @staticmethod
    def type_string():
        return "varchar"

    @staticmethod
    def type_int():
        return "integer"

    @staticmethod
    def type_bigint():
        return "bigint"

    @staticmethod
    def type_float():
        return "double"

    @staticmethod
    def type_numeric():
        return "numeric(28, 6)"

    @staticmethod
    def type_boolean():
        return "boolean"

    @staticmethod
    def type_timestamp():
        return "timestamp"


dbt = _Dbt()


class _Adapter:
    """adapter.dispatch: renders the dispatched macro as a plain function call of the same name."""

    @staticmethod
    def dispatch(macro_name, macro_namespace=None):
        return lambda *args: f"{macro_name}({', '.join(str(a) for a in args)})"


adapter = _Adapter()


class _Target:
    name = "duckdb"
    type = "duckdb"
    schema = "main"
    database = "warehouse"
    threads = 1


target = _Target()


class _Column:
    @staticmethod
    def translate_type(dtype):
        return dtype


class _Api:
    Column = _Column


api = _Api()


def env_var(name, default=""):
    """dbt's env_var: the default (SQLFluff never reads the environment for templating)."""
    return default


def log(message, info=False):
    """dbt's log: nothing to render."""
    return ""


execute = False
