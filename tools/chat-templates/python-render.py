"""Renders chat-template cases with Python's jinja2 set up as Hugging Face transformers does.

A second oracle for make-fixtures.mjs: transformers renders chat templates with jinja2 (what models were trained
on), @huggingface/jinja reimplements it in JavaScript. Reads {"template", "cases": [{"variables"}]} as JSON on
stdin (a case may carry its own "template") and writes {"jinja2": version, "results": [{"expected"} or {"error"}]} as JSON on stdout.
"""
import json
import sys
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return datetime.now().strftime(format)


def main():
    request = json.load(sys.stdin)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    results = []
    for case in request["cases"]:
        try:
            template = env.from_string(case.get("template", request.get("template")))
            results.append({"expected": template.render(**case["variables"])})
        except Exception as e:  # every failure is a result to compare, not a crash of the tool
            results.append({"error": str(e)})
    json.dump({"jinja2": jinja2.__version__, "results": results}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
